//! The writes MediaLive's HLS and Archive output groups make into S3 (with the channel's role, so
//! no bucket policy is consulted; the bucket's object ownership still refuses ACLs).

use futures::future::BoxFuture;
use s3s::dto::{ObjectCannedACL, PutObjectInput, StreamingBlob};
use s3s::{S3 as _, S3Request};

use super::S3;
use crate::media::recorder::{ObjectStore, PutObject};

impl ObjectStore for S3 {
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
