//! The player page on S3: upload the page and the stream's config under its prefix when they
//! changed, grant read of the pages' prefix in the bucket policy — to the account's CloudFront
//! distributions (delivery CloudFront; the bucket stays private) or to anyone (Direct) — and
//! remove both on delete.

use aws_sdk_s3::{
    primitives::ByteStream,
    types::{BucketLocationConstraint, CreateBucketConfiguration},
};

use super::{Run, action, observe::Observed};
use crate::{
    api::{DeliveryMode, LiveStream},
    aws::AwsClients,
    context::Context,
    desired::{
        cloudfront,
        website::{self, Grant, digest, has_grant, objects, policy_with, policy_without},
    },
    error::{Error, Result},
};

/// The player page this pass should have published.
pub struct Page {
    bucket: String,
    prefix: String,
    objects: Vec<website::Object>,
    digest: String,
    /// `spec.website.bucket` changed: the page leaves this bucket once the new one serves it.
    moved_from: Option<String>,
    /// Delivery CloudFront: the distribution that serves the page.
    via: Option<Via>,
}

/// The distribution in front of the page.
struct Via {
    domain: String,
    /// Its account (from its ARN), whose distributions the bucket policy lets read.
    account: String,
    /// An origin URL, for the scheme the distribution is reached with.
    origin_url: String,
}

impl Run<'_> {
    /// None when the page is disabled, no bucket is configured or there is no playback URL yet
    /// (or, with delivery CloudFront, no distribution yet); a page published before stays until
    /// the LiveStream is deleted.
    pub(super) fn page(&self, observed: &Observed) -> Option<Page> {
        let spec = &self.stream.spec.website;
        let bucket = spec
            .bucket
            .clone()
            .or_else(|| self.ctx.settings.website_bucket.clone())?;
        let origin_url = observed.playback(self.packaging.version).hls?;
        let via = match self.delivery.mode {
            DeliveryMode::Direct => None,
            DeliveryMode::CloudFront => {
                let d = observed.distribution.as_ref()?;
                Some(Via {
                    domain: d.domain.clone(),
                    account: d.account().unwrap_or_default().to_owned(),
                    origin_url,
                })
            }
        };
        let urls = observed.delivered(self.packaging.version, self.delivery.mode);
        let playback = urls.hls.as_deref()?;
        if !spec.enabled {
            return None;
        }
        let objects = objects(self.stream, playback, urls.low_latency_hls.as_deref());
        Some(Page {
            prefix: website::prefix(self.stream),
            digest: digest(&objects),
            moved_from: self.status.website_bucket.clone().filter(|old| *old != bucket),
            bucket,
            objects,
            via,
        })
    }

    pub(super) fn page_stale(&self, page: &Page) -> bool {
        self.status.website_digest.as_deref() != Some(page.digest.as_str()) || page.moved_from.is_some()
    }

    /// Where the page is, for status (also the bucket of a page published by a release that did
    /// not record it).
    pub(super) fn record_page(&mut self, page: Option<&Page>) {
        let aws = &self.ctx.aws;
        self.status.website_url = page.and_then(|p| match &p.via {
            Some(via) => cloudfront::website_url(&via.origin_url, &via.domain, self.stream),
            None => Some(website::url(
                aws.endpoint_url.as_deref(),
                &aws.region,
                &p.bucket,
                &p.prefix,
            )),
        });
        if let Some(page) = page {
            self.status.website_bucket = Some(page.bucket.clone());
        }
    }

    pub(super) async fn publish_page(&mut self, page: &Page) -> Result<()> {
        let (aws, bucket, prefix) = (&self.ctx.aws, &page.bucket, &page.prefix);
        ensure_bucket(aws, bucket).await?;
        for object in &page.objects {
            aws.s3
                .put_object()
                .bucket(bucket)
                .key(format!("{prefix}{}", object.name))
                .body(ByteStream::from(object.body.clone()))
                .content_type(object.content_type)
                .cache_control(object.cache_control)
                .send()
                .await
                .map_err(|e| Error::aws("PutObject", e))?;
        }
        match &page.via {
            Some(via) => self.grant(bucket, &Grant::cloudfront(bucket, &via.account)).await?,
            None => self.grant(bucket, &Grant::new(bucket)).await?,
        }
        self.event(
            "PublishedWebsite",
            format!("Published the player page to s3://{bucket}/{prefix}"),
        )
        .await;
        if let Some(old) = &page.moved_from {
            remove_from(self.stream, self.ctx, old).await?;
        }
        self.status.website_digest = Some(page.digest.clone());
        self.record_page(Some(page));
        Ok(())
    }

    async fn grant(&self, bucket: &str, grant: &Grant) -> Result<()> {
        match put_grant(self.ctx, bucket, grant).await {
            // Block Public Access (or an IAM policy) refuses the public grant. The operator never
            // turns Block Public Access off behind the user's back: it says how to.
            // (Only PutBucketPolicy's refusal: a refused GetBucketPolicy is a missing permission.)
            Err(
                e @ Error::Aws {
                    operation: "PutBucketPolicy",
                    ..
                },
            ) if e.code() == Some("AccessDenied") && grant.is_public() => Err(Error::WebsiteNotPublic(format!(
                "the player page is in s3://{bucket}/{} but stays private: S3 refused the public-read bucket policy ({e}). \
                 To publish player pages from this bucket, allow public bucket policies on it: \
                 `aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration \
                 BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false` \
                 (and grant the operator s3:PutBucketPolicy); or set spec.delivery.mode: CloudFront, which keeps the bucket private; or set spec.website.enabled: false",
                website::prefix(self.stream)
            ))),
            other => other,
        }
    }
}

/// Adds (or replaces) `grant`'s statement in the bucket's policy; serialized, as every stream
/// shares the statement.
pub async fn put_grant(ctx: &Context, bucket: &str, grant: &Grant) -> Result<()> {
    let _serialized = ctx.bucket_policy_lock.lock().await;
    let existing = bucket_policy(&ctx.aws, bucket).await?;
    let policy = policy_with(existing.as_deref(), grant);
    if existing.as_deref() == Some(policy.as_str()) {
        return Ok(());
    }
    let put = ctx
        .aws
        .s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await;
    put.map_err(|e| Error::aws("PutBucketPolicy", e)).map(drop)
}

/// Creates the bucket when it does not exist yet (it is shared and never deleted by the operator).
/// HeadBucket's error: a HEAD answer has no body, so a 403 carries no code; it is S3's refusal
/// (no s3:ListBucket, or another account's bucket) and is reported as such.
fn head_refused(
    bucket: &str,
    e: aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::head_bucket::HeadBucketError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> Error {
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
    }
}

pub async fn ensure_bucket(aws: &AwsClients, bucket: &str) -> Result<()> {
    match aws
        .s3
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| head_refused(bucket, e))
    {
        Ok(_) => Ok(()),
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
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn bucket_policy(aws: &AwsClients, bucket: &str) -> Result<Option<String>> {
    match aws
        .s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| Error::aws("GetBucketPolicy", e))
    {
        Ok(out) => Ok(out.policy),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes the stream's objects and its policy statement from the bucket it was published to and
/// the one its spec names (the buckets stay).
pub async fn remove(stream: &LiveStream, ctx: &Context) -> Result<()> {
    let published = stream.status.as_ref().and_then(|s| s.website_bucket.clone());
    let configured = stream
        .spec
        .website
        .bucket
        .clone()
        .or_else(|| ctx.settings.website_bucket.clone());
    for bucket in published
        .iter()
        .chain(configured.iter().filter(|c| Some(*c) != published.as_ref()))
    {
        remove_from(stream, ctx, bucket).await?;
    }
    Ok(())
}

async fn remove_from(stream: &LiveStream, ctx: &Context, bucket: &str) -> Result<()> {
    let aws = &ctx.aws;
    let prefix = website::prefix(stream);
    let listed = aws.s3.list_objects_v2().bucket(bucket).prefix(&prefix).send().await;
    let keys: Vec<String> = match listed.map_err(|e| Error::aws("ListObjectsV2", e)) {
        Ok(out) => out.contents().iter().filter_map(|o| o.key.clone()).collect(),
        Err(e) if e.code() == Some("NoSuchBucket") => return Ok(()),
        Err(e) => return Err(e),
    };
    for key in &keys {
        aws.s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| Error::aws("DeleteObject", e))?;
    }
    let _serialized = ctx.bucket_policy_lock.lock().await;
    let existing = bucket_policy(aws, bucket).await?;
    let grants = Grant::all(bucket);
    // The statement serves every page in the bucket: it goes with the last one.
    let pages = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(website::PAGES)
        .max_keys(1)
        .send()
        .await;
    let pages_left = pages
        .map_err(|e| Error::aws("ListObjectsV2", e))?
        .key_count
        .unwrap_or(0)
        > 0;
    let mine = grants.iter().any(|g| has_grant(existing.as_deref(), g));
    if !pages_left && mine {
        let without = (grants.iter()).fold(existing.clone(), |policy, g| policy_without(policy.as_deref(), g));
        match without {
            Some(policy) => {
                let put = aws.s3.put_bucket_policy().bucket(bucket).policy(policy).send().await;
                put.map_err(|e| Error::aws("PutBucketPolicy", e))?;
            }
            None => {
                let delete = aws.s3.delete_bucket_policy().bucket(bucket).send().await;
                delete.map_err(|e| Error::aws("DeleteBucketPolicy", e))?;
            }
        }
    }
    if !keys.is_empty() {
        action(
            ctx,
            stream,
            "DeletedWebsite",
            format!("Deleted the player page from s3://{bucket}/{prefix}"),
        )
        .await;
    }
    Ok(())
}
