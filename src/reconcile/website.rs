//! The player page on S3: upload the page and the stream's config under its prefix when they
//! changed, grant read of the pages' prefix in the bucket policy — to the account's CloudFront
//! distributions (delivery CloudFront; the bucket stays private) or to anyone (Direct) — and
//! remove both on delete.

use super::{Run, action};
use crate::observe::Observed;
use crate::{
    api::{DeliveryMode, LiveStream},
    aws::s3,
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
        let origin_url = observed.playback(self.want.packaging.version).hls?;
        let via = match self.want.delivery.mode {
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
        let urls = observed.delivered(self.want.packaging.version, self.want.delivery.mode);
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
        s3::ensure_bucket(aws, bucket).await?;
        for object in &page.objects {
            let put = s3::Put {
                key: format!("{prefix}{}", object.name),
                body: object.body.clone(),
                content_type: object.content_type,
                cache_control: object.cache_control,
            };
            s3::put_object(aws, bucket, put).await?;
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
    let existing = s3::bucket_policy(&ctx.aws, bucket).await?;
    let policy = policy_with(existing.as_deref(), grant);
    if existing.as_deref() == Some(policy.as_str()) {
        return Ok(());
    }
    s3::set_bucket_policy(&ctx.aws, bucket, Some(policy)).await
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
    let Some(keys) = s3::keys(aws, bucket, &prefix).await? else {
        return Ok(());
    };
    for key in &keys {
        s3::delete_object(aws, bucket, key).await?;
    }
    let _serialized = ctx.bucket_policy_lock.lock().await;
    let existing = s3::bucket_policy(aws, bucket).await?;
    let grants = Grant::all(bucket);
    // The statement serves every page in the bucket: it goes with the last one.
    let pages_left = s3::any_under(aws, bucket, website::PAGES).await?;
    let mine = grants.iter().any(|g| has_grant(existing.as_deref(), g));
    if !pages_left && mine {
        let without = (grants.iter()).fold(existing.clone(), |policy, g| policy_without(policy.as_deref(), g));
        s3::set_bucket_policy(aws, bucket, without).await?;
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
