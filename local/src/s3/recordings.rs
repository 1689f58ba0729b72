//! The writes MediaLive's HLS and Archive output groups make into S3 (with the channel's role, so
//! no bucket policy is consulted; the bucket's object ownership still refuses ACLs), and those of
//! MediaPackage v2's harvest jobs, which have no role: the `mediapackagev2.amazonaws.com` service
//! principal writes, so the bucket policy must grant it `s3:PutObject`.

use futures::future::BoxFuture;
use s3s::dto::{ObjectCannedACL, PutObjectInput, StreamingBlob};
use s3s::{S3 as _, S3Request};

use super::S3;
use crate::media::recorder::{ObjectStore, PutObject, ServiceGrant};

/// Bucket names as S3 allows them (a recording's or a source's bucket comes from a request body,
/// not through s3s's validation): no `/`, no `..`.
fn plain_bucket(bucket: &str) -> bool {
    (bucket.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')) && !bucket.contains("..")
}

impl ObjectStore for S3 {
    fn object_file(&self, bucket: &str, key: &str) -> Option<std::path::PathBuf> {
        let name = super::keys::stored_name(key).ok()?;
        let file = self
            .inner
            .store
            .bucket_dir(plain_bucket(bucket).then_some(bucket)?)
            .join(name);
        file.is_file().then_some(file)
    }

    fn service_put<'a>(
        &'a self,
        grant: ServiceGrant<'a>,
        object: PutObject<'a>,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let store = &self.inner.store;
            if !plain_bucket(object.bucket) || store.require_bucket(object.bucket).is_err() {
                return Err("NoSuchBucket: The specified bucket does not exist".to_owned());
            }
            let policy = store.policy(object.bucket).await.unwrap_or_default();
            let allowed = super::policy::allows_service(
                &policy,
                grant.service,
                "s3:PutObject",
                object.bucket,
                object.key,
                grant.source_arn,
                grant.source_account,
            );
            if !allowed {
                return Err("AccessDenied: Access Denied".to_owned());
            }
            if dry_run {
                return Ok(());
            }
            self.put(PutObject { acl: None, ..object }).await
        })
    }

    fn put<'a>(&'a self, object: PutObject<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let length = object.body.len() as i64;
            let input = PutObjectInput {
                bucket: object.bucket.to_owned(),
                key: object.key.to_owned(),
                body: Some(StreamingBlob::from(s3s::Body::from(bytes::Bytes::from(object.body)))),
                content_length: Some(length),
                content_type: Some(object.content_type.to_owned()),
                acl: object
                    .acl
                    .map(|acl| ObjectCannedACL::from(acl.to_ascii_lowercase().replace('_', "-"))),
                ..Default::default()
            };
            let uri = format!("/{}/{}", object.bucket, object.key)
                .parse()
                .map_err(|e| format!("{e}"))?;
            let request = S3Request {
                input,
                method: axum::http::Method::PUT,
                uri,
                headers: Default::default(),
                extensions: Default::default(),
                credentials: None,
                region: None,
                service: Some("s3".into()),
                trailing_headers: None,
            };
            match self.inner.store.put_object(request).await {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("{}: {}", e.code().as_str(), e.message().unwrap_or_default())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode};

    use crate::media::recorder::ObjectStore;

    /// A file input's `s3://` source is read in place: the object's file holds what was put.
    #[tokio::test]
    async fn an_object_is_found_as_its_file() {
        let srv = super::super::tests::start().await;
        assert_eq!(
            srv.signed(Method::PUT, "/sources", &[], "").await.status,
            StatusCode::OK
        );
        let put = srv
            .signed(Method::PUT, "/sources/events/opening.mp4", &[], "mp4 bytes")
            .await;
        assert_eq!(put.status, StatusCode::OK);
        let file = srv
            .s3
            .object_file("sources", "events/opening.mp4")
            .expect("the object's file");
        assert_eq!(std::fs::read(file).unwrap(), b"mp4 bytes");
        assert_eq!(srv.s3.object_file("sources", "missing.mp4"), None);
        assert_eq!(srv.s3.object_file("../sources", "events/opening.mp4"), None);
        assert_eq!(srv.s3.object_file("nobucket", "events/opening.mp4"), None);
    }
}
