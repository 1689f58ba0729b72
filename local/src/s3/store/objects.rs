//! The object operations whose requests or answers carry keys: each key is handed to the file
//! store as its stored name ([`keys::stored_name`]) and answered back as sent, and the key index
//! follows every write and delete; listings are served from that index.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::TryStreamExt as _;
use s3s::dto::*;
use s3s::{S3 as _, S3Request, S3Response, S3Result};

use super::{Store, internal};
use crate::s3::keys::{self, stored_name};

/// S3's default and largest page of a listing.
const MAX_KEYS: usize = 1000;

impl Store {
    pub(super) async fn put_keyed(&self, mut req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let key = swap_in_stored_name(&mut req.input.key)?;
        let bucket = req.input.bucket.clone();
        // A body that breaks off or does not match its signed hash fails while the file store
        // reads it: the client's mistake, not an internal error (XAmzContentSHA256Mismatch, in the
        // S3 API reference's error list, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
        let broken = Arc::new(AtomicBool::new(false));
        if let Some(body) = req.input.body.take() {
            let flag = broken.clone();
            let body = body
                .inspect_err(move |_| flag.store(true, Ordering::Relaxed))
                .map_err(std::io::Error::other);
            req.input.body = Some(StreamingBlob::wrap(body));
        }
        let out = match self.0.fs.put_object(req).await {
            Err(_) if broken.load(Ordering::Relaxed) => {
                let mut error = s3s::S3Error::with_message(
                    s3s::S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                );
                error.set_status_code(axum::http::StatusCode::BAD_REQUEST);
                return Err(error);
            }
            other => other?,
        };
        self.0.index.insert(&bucket, &key).map_err(internal)?;
        Ok(out)
    }

    pub(super) async fn delete_keyed(
        &self,
        mut req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let stored = stored_name(&req.input.key)?;
        self.0
            .index
            .remove(&req.input.bucket, &req.input.key)
            .map_err(internal)?;
        req.input.key = stored;
        self.0.fs.delete_object(req).await
    }

    pub(super) async fn delete_many(
        &self,
        mut req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let mut sent = std::collections::HashMap::new();
        for object in &mut req.input.delete.objects {
            let stored = stored_name(&object.key)?;
            self.0.index.remove(&req.input.bucket, &object.key).map_err(internal)?;
            sent.insert(stored.clone(), std::mem::replace(&mut object.key, stored));
        }
        let mut out = self.0.fs.delete_objects(req).await?;
        let as_sent = |key: &mut Option<String>| {
            if let Some(k) = key.as_mut()
                && let Some(original) = sent.get(k)
            {
                k.clone_from(original);
            }
        };
        for deleted in out.output.deleted.iter_mut().flatten() {
            as_sent(&mut deleted.key);
        }
        for error in out.output.errors.iter_mut().flatten() {
            as_sent(&mut error.key);
        }
        Ok(out)
    }

    pub(super) async fn copy_keyed(
        &self,
        mut req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        stored_source(&mut req.input.copy_source)?;
        let key = swap_in_stored_name(&mut req.input.key)?;
        let bucket = req.input.bucket.clone();
        let out = self.0.fs.copy_object(req).await?;
        self.0.index.insert(&bucket, &key).map_err(internal)?;
        Ok(out)
    }

    pub(super) async fn upload_part_copy_keyed(
        &self,
        mut req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        stored_source(&mut req.input.copy_source)?;
        req.input.key = stored_name(&req.input.key)?;
        self.0.fs.upload_part_copy(req).await
    }

    pub(super) async fn create_upload_keyed(
        &self,
        mut req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let key = swap_in_stored_name(&mut req.input.key)?;
        let mut out = self.0.fs.create_multipart_upload(req).await?;
        out.output.key = Some(key);
        Ok(out)
    }

    pub(super) async fn list_parts_keyed(
        &self,
        mut req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let key = swap_in_stored_name(&mut req.input.key)?;
        let mut out = self.0.fs.list_parts(req).await?;
        out.output.key = Some(key);
        Ok(out)
    }

    pub(super) async fn complete_upload_keyed(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let key = swap_in_stored_name(&mut req.input.key)?;
        let bucket = req.input.bucket.clone();
        let mut out = self.0.fs.complete_multipart_upload(req).await?;
        self.0.index.insert(&bucket, &key).map_err(internal)?;
        out.output.key = Some(key);
        Ok(out)
    }

    pub(super) async fn list_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let token = match &input.continuation_token {
            Some(token) => Some(decode_token(token)?),
            None => None,
        };
        let after = match (token, input.start_after.clone()) {
            (Some(t), Some(s)) => Some(t.max(s)),
            (t, s) => t.or(s),
        };
        let listing = self
            .listing(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                after.as_deref(),
                input.max_keys,
            )
            .await?;
        let encode = url_encoder(input.encoding_type.as_ref());
        let output = ListObjectsV2Output {
            key_count: Some((listing.contents.len() + listing.common_prefixes.len()) as i32),
            max_keys: Some(listing.max_keys),
            is_truncated: Some(listing.next_marker.is_some()),
            next_continuation_token: listing.next_marker.as_deref().map(encode_token),
            contents: listing.contents(&encode),
            common_prefixes: listing.common_prefixes(&encode),
            continuation_token: input.continuation_token,
            delimiter: input.delimiter.as_deref().map(&encode),
            prefix: Some(input.prefix.as_deref().map(&encode).unwrap_or_default()),
            start_after: input.start_after.as_deref().map(&encode),
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    pub(super) async fn list_v1(&self, req: S3Request<ListObjectsInput>) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let listing = self
            .listing(
                &input.bucket,
                input.prefix.as_deref(),
                input.delimiter.as_deref(),
                input.marker.as_deref(),
                input.max_keys,
            )
            .await?;
        let encode = url_encoder(input.encoding_type.as_ref());
        let output = ListObjectsOutput {
            max_keys: Some(listing.max_keys),
            is_truncated: Some(listing.next_marker.is_some()),
            next_marker: listing.next_marker.as_deref().map(&encode),
            contents: listing.contents(&encode),
            common_prefixes: listing.common_prefixes(&encode),
            marker: Some(input.marker.as_deref().map(&encode).unwrap_or_default()),
            delimiter: input.delimiter.as_deref().map(&encode),
            prefix: Some(input.prefix.as_deref().map(&encode).unwrap_or_default()),
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    /// One page of `bucket`'s keys, each with the size and time of its stored object.
    async fn listing(
        &self,
        bucket: &str,
        prefix: Option<&str>,
        delimiter: Option<&str>,
        after: Option<&str>,
        max_keys: Option<i32>,
    ) -> S3Result<Listing> {
        self.require_bucket(bucket)?;
        let max_keys = max_keys.unwrap_or(MAX_KEYS as i32);
        let max = usize::try_from(max_keys).unwrap_or(0).min(MAX_KEYS);
        let prefix = prefix.unwrap_or_default();
        let all = self.0.index.keys_from(bucket, prefix).map_err(internal)?;
        let page = keys::page(&all, prefix, delimiter, after, max);
        let dir = self.bucket_dir(bucket);
        let mut objects = Vec::with_capacity(page.keys.len());
        for key in page.keys {
            // A key whose object went away between the index and here is not listed.
            let Ok(meta) = tokio::fs::metadata(dir.join(stored_name(&key)?)).await else {
                continue;
            };
            objects.push(Object {
                key: Some(key),
                size: Some(meta.len() as i64),
                last_modified: meta.modified().ok().map(Timestamp::from),
                storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                ..Default::default()
            });
        }
        Ok(Listing {
            contents: objects,
            common_prefixes: page.common_prefixes,
            next_marker: page.next_marker,
            max_keys,
        })
    }
}

struct Listing {
    contents: Vec<Object>,
    common_prefixes: Vec<String>,
    next_marker: Option<String>,
    max_keys: i32,
}

impl Listing {
    fn contents(&self, encode: &impl Fn(&str) -> String) -> Option<Vec<Object>> {
        let objects: Vec<Object> = (self.contents.iter())
            .map(|o| Object {
                key: o.key.as_deref().map(encode),
                ..o.clone()
            })
            .collect();
        (!objects.is_empty()).then_some(objects)
    }

    fn common_prefixes(&self, encode: &impl Fn(&str) -> String) -> Option<Vec<CommonPrefix>> {
        let prefixes: Vec<CommonPrefix> = (self.common_prefixes.iter())
            .map(|p| CommonPrefix {
                prefix: Some(encode(p)),
            })
            .collect();
        (!prefixes.is_empty()).then_some(prefixes)
    }
}

/// Keys as sent, or url-encoded when the request asked for `EncodingType=url`.
fn url_encoder(encoding: Option<&EncodingType>) -> impl Fn(&str) -> String + use<> {
    let url = encoding.is_some_and(|e| e.as_str() == EncodingType::URL);
    move |text: &str| if url { keys::url_encode(text) } else { text.to_owned() }
}

/// A continuation token is opaque to clients: the last key of the page, base64.
fn encode_token(last: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

/// A token it did not issue: AWS's answer in https://github.com/versity/versitygw/issues/993.
fn decode_token(token: &str) -> S3Result<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| s3s::s3_error!(InvalidArgument, "The continuation token provided is incorrect"))
}

/// Replaces a request's key with its stored name; the key as sent.
fn swap_in_stored_name(key: &mut String) -> S3Result<String> {
    let stored = stored_name(key)?;
    Ok(std::mem::replace(key, stored))
}

fn stored_source(source: &mut CopySource) -> S3Result<()> {
    if let CopySource::Bucket { key, .. } = source {
        *key = stored_name(key)?.into_boxed_str();
    }
    Ok(())
}
