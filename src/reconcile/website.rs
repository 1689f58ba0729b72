//! The player page around a pass: what status recorded of it (the snapshot's page, see
//! `aws::page`), where teardown looks for it, and what status says of it.

use kube::ResourceExt;

use crate::{
    api::{LiveStream, LiveStreamStatus},
    aws::page::{self, Page},
    context::Context,
    desired::website,
    error::Result,
};

/// The page status says was published.
pub fn recorded(stream: &LiveStream, status: &LiveStreamStatus) -> Option<Page> {
    let uid = stream.uid().unwrap_or_default();
    let (bucket, digest) = (status.website_bucket.as_deref(), status.website_digest.as_deref());
    Page::recorded(bucket, digest, &website::prefix(stream), &uid)
}

/// Teardown's page: in the bucket it was published to or the one the spec names (a crash may
/// have come before status named it).
pub async fn find_for_teardown(stream: &LiveStream, ctx: &Context, uid: &str) -> Result<Option<Page>> {
    let published = stream.status.as_ref().and_then(|s| s.website_bucket.clone());
    let configured = (stream.spec.website.bucket.clone()).or_else(|| ctx.settings.website_bucket.clone());
    let mut buckets: Vec<String> = published.into_iter().collect();
    buckets.extend(configured.filter(|c| !buckets.contains(c)));
    page::find(&ctx.aws, &buckets, &website::prefix(stream), uid).await
}

/// Where the page is published and what, from what was applied (a page is kept once published).
pub fn record(status: &mut LiveStreamStatus, published: Option<&Page>) {
    if let Some(page) = published {
        status.website_bucket = Some(page.bucket.clone());
        status.website_digest = page.digest.clone();
    }
}
