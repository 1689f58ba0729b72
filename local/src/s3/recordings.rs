//! The writes MediaLive's HLS and Archive output groups make into S3 (with the channel's role, so
//! no bucket policy is consulted; the bucket's object ownership still refuses ACLs), and those of
//! MediaPackage v2's harvest jobs, which have no role: the `mediapackagev2.amazonaws.com` service
//! principal writes, so the bucket policy must grant it `s3:PutObject`.

use futures::future::BoxFuture;
use s3s::dto::{ObjectCannedACL, PutObjectInput, StreamingBlob};
use s3s::{S3 as _, S3Request};

use super::S3;
use crate::media::recorder::{ObjectStore, PutObject, ServiceGrant};

impl ObjectStore for S3 {
    fn service_put<'a>(
        &'a self,
        grant: ServiceGrant<'a>,
        object: PutObject<'a>,
        dry_run: bool,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let store = &self.inner.store;
            let safe = (object.bucket.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                && !object.bucket.contains("..");
            if !safe || store.require_bucket(object.bucket).is_err() {
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
