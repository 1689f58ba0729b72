//! The CloudFront distribution a pass asks for (once the origin has a URL to front) and the one
//! teardown finds. Creating, updating, disabling and deleting it are its kind's (`aws::cloudfront`).

use super::Run;
use crate::observe::Observed;
use crate::{
    api::LiveStream,
    aws::cloudfront,
    context::Context,
    desired::cloudfront::{self as want, DistributionRequest, PlayerBucket},
    error::Result,
};

impl Run<'_> {
    /// The distribution the spec asks for, once the origin has an HLS URL to front.
    pub(super) fn distribution_request(&self, observed: &Observed) -> Option<DistributionRequest> {
        let want = &self.want;
        let origin = observed.playback(want.packaging.version).hls;
        let player = (want.delivery.bucket.as_deref()).map(|bucket| PlayerBucket {
            bucket,
            region: &want.delivery.region,
        });
        let price = want.price_class;
        want::distribution(self.stream, origin.as_deref(), player, price)
    }
}

/// Teardown's distribution: found by status or by the uid in a comment (a crash may have left
/// one before status named it).
pub async fn find_for_teardown(
    stream: &LiveStream,
    ctx: &Context,
    uid: &str,
) -> Result<Option<cloudfront::Distribution>> {
    let cached = stream.status.as_ref().and_then(|s| s.cloud_front.as_ref());
    let listed = ctx.cache.distributions.listing(uid, || cloudfront::list(&ctx.aws));
    Box::pin(cloudfront::find(
        &ctx.aws,
        cached.map(|c| c.distribution_id.as_str()),
        uid,
        listed,
    ))
    .await
}
