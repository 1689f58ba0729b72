//! S3: the buckets the operator writes to (player pages, recordings, clips) and never deletes, the
//! objects it puts there, and the bucket-policy statement that lets viewers or CloudFront read the
//! pages. Every S3 call of the operator is here.

use aws_sdk_s3::{
    error::SdkError,
    operation::head_bucket::HeadBucketError,
    primitives::ByteStream,
    types::{BucketLocationConstraint, CreateBucketConfiguration},
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{AwsClients, Ensured, Shared};
use crate::{
    desired::website::{Grant, has_grant, policy_with, policy_without},
    error::{Error, Result},
};

/// Every stream of a bucket shares its statements: their read-modify-write is one at a time.
static POLICY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One object to put.
pub struct Put<'a> {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'a str,
    pub cache_control: &'a str,
}

/// HeadBucket's error: a HEAD answer has no body, so a 403 carries no code; it is S3's refusal
/// (no s3:ListBucket, or another account's bucket) and is reported as such.
fn head_refused(bucket: &str, e: SdkError<HeadBucketError, HttpResponse>) -> Error {
    let forbidden = e.raw_response().is_some_and(|r| r.status().as_u16() == 403);
    if !forbidden {
        return Error::aws("HeadBucket", e);
    }
    Error::Aws {
        operation: "HeadBucket",
        code: "AccessDenied".into(),
        message: format!(
            "S3 answered 403 without a body for s3://{bucket}: the operator is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::{bucket} (or the bucket belongs to another account)"
        ),
        source: Some(Box::new(e)),
    }
}

/// A bucket the operator writes to (player pages, recordings, clips): shared by the streams.
pub struct Bucket;

impl Shared for Bucket {
    async fn ensure(aws: &AwsClients, bucket: &str) -> Result<Ensured> {
        let created = ensure_bucket(aws, bucket).await?;
        Ok(Ensured {
            id: bucket.to_owned(),
            created,
        })
    }

    /// Never: a bucket holds what users keep (recordings, clips), and other pages.
    async fn retire(_: &AwsClients, _: &str) -> Result<bool> {
        Ok(false)
    }
}

async fn ensure_bucket(aws: &AwsClients, bucket: &str) -> Result<bool> {
    let head = aws.s3.head_bucket().bucket(bucket).send().await;
    match head.map_err(|e| head_refused(bucket, e)) {
        Ok(_) => Ok(false),
        Err(e) if matches!(e.code(), Some("NotFound" | "NoSuchBucket")) => {
            let mut create = aws.s3.create_bucket().bucket(bucket);
            // Outside us-east-1, S3 wants the region named (IllegalLocationConstraintException).
            if aws.region != "us-east-1" {
                let location = BucketLocationConstraint::from(aws.region.as_str());
                let configuration = CreateBucketConfiguration::builder()
                    .location_constraint(location)
                    .build();
                create = create.create_bucket_configuration(configuration);
            }
            create.send().await.map_err(|e| Error::aws("CreateBucket", e))?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

pub async fn put_object(aws: &AwsClients, bucket: &str, object: Put<'_>) -> Result<()> {
    let put = (aws.s3.put_object())
        .bucket(bucket)
        .key(object.key)
        .body(ByteStream::from(object.body))
        .content_type(object.content_type)
        .cache_control(object.cache_control)
        .send()
        .await;
    put.map_err(|e| Error::aws("PutObject", e)).map(drop)
}

pub async fn delete_object(aws: &AwsClients, bucket: &str, key: &str) -> Result<()> {
    let deleted = aws.s3.delete_object().bucket(bucket).key(key).send().await;
    deleted.map_err(|e| Error::aws("DeleteObject", e)).map(drop)
}

/// The keys under `prefix` (one page: the operator's prefixes hold a handful); None: no bucket.
pub async fn keys(aws: &AwsClients, bucket: &str, prefix: &str) -> Result<Option<Vec<String>>> {
    let listed = aws.s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await;
    match listed.map_err(|e| Error::aws("ListObjectsV2", e)) {
        Ok(out) => Ok(Some(out.contents().iter().filter_map(|o| o.key.clone()).collect())),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether any key starts with `prefix`.
pub async fn any_under(aws: &AwsClients, bucket: &str, prefix: &str) -> Result<bool> {
    let listed = (aws.s3.list_objects_v2())
        .bucket(bucket)
        .prefix(prefix)
        .max_keys(1)
        .send()
        .await;
    Ok(listed
        .map_err(|e| Error::aws("ListObjectsV2", e))?
        .key_count
        .unwrap_or(0)
        > 0)
}

/// The "folders" right under `prefix` (common prefixes at `/`); None: no bucket.
pub async fn folders(aws: &AwsClients, bucket: &str, prefix: &str) -> Result<Option<Vec<String>>> {
    let listed = (aws.s3.list_objects_v2())
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .send()
        .await;
    match listed.map_err(|e| Error::aws("ListObjectsV2", e)) {
        Ok(out) => Ok(Some(
            (out.common_prefixes().iter())
                .filter_map(|p| p.prefix.clone())
                .collect(),
        )),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bucket's policy document, if it has one.
pub async fn bucket_policy(aws: &AwsClients, bucket: &str) -> Result<Option<String>> {
    let got = aws.s3.get_bucket_policy().bucket(bucket).send().await;
    match got.map_err(|e| Error::aws("GetBucketPolicy", e)) {
        Ok(out) => Ok(out.policy),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets the bucket's policy; `None` deletes it.
pub async fn set_bucket_policy(aws: &AwsClients, bucket: &str, policy: Option<String>) -> Result<()> {
    match policy {
        Some(policy) => {
            let put = aws.s3.put_bucket_policy().bucket(bucket).policy(policy).send().await;
            put.map_err(|e| Error::aws("PutBucketPolicy", e)).map(drop)
        }
        None => {
            let deleted = aws.s3.delete_bucket_policy().bucket(bucket).send().await;
            deleted.map_err(|e| Error::aws("DeleteBucketPolicy", e)).map(drop)
        }
    }
}

/// Adds (or replaces) `grant`'s statement in the bucket's policy.
pub async fn grant(aws: &AwsClients, bucket: &str, grant: &Grant) -> Result<()> {
    let _serialized = POLICY.lock().await;
    let existing = bucket_policy(aws, bucket).await?;
    let policy = policy_with(existing.as_deref(), grant);
    if existing.as_deref() == Some(policy.as_str()) {
        return Ok(());
    }
    set_bucket_policy(aws, bucket, Some(policy)).await
}

/// The bucket's policy when it holds one of `grants` but no object under `prefix` is left: the
/// statements serve every page in the bucket and go with the last one.
async fn outlived(aws: &AwsClients, bucket: &str, grants: &[Grant], prefix: &str) -> Result<Option<String>> {
    let Some(existing) = bucket_policy(aws, bucket).await? else {
        return Ok(None);
    };
    let mine = grants.iter().any(|g| has_grant(Some(&existing), g));
    Ok((mine && !any_under(aws, bucket, prefix).await?).then_some(existing))
}

/// Whether one of `grants` outlived the last object under `prefix`.
pub async fn grant_unused(aws: &AwsClients, bucket: &str, grants: &[Grant], prefix: &str) -> Result<bool> {
    Ok(outlived(aws, bucket, grants, prefix).await?.is_some())
}

/// Removes `grants`' statements once no object under `prefix` is left.
pub async fn revoke_unused(aws: &AwsClients, bucket: &str, grants: &[Grant], prefix: &str) -> Result<()> {
    let _serialized = POLICY.lock().await;
    let Some(existing) = outlived(aws, bucket, grants, prefix).await? else {
        return Ok(());
    };
    // None once no statement is left: the policy is deleted.
    let without = (grants.iter()).try_fold(existing, |policy, g| policy_without(Some(&policy), g));
    set_bucket_policy(aws, bucket, without).await
}
