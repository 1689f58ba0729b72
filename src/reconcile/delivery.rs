//! Executing the CloudFront steps: the distribution created (adopted after a crash), updated under
//! its ETag, and — when the stream moves to delivery Direct, or in teardown — disabled, then
//! deleted once deployed, with the shared origin access control going with its last user.

use super::{Run, plan::Desired};
use crate::observe::Observed;
use crate::{
    api::LiveStream,
    aws::{AwsClients, cloudfront},
    context::Context,
    desired::cloudfront::{self as want, DistributionRequest, OriginAccess, PlayerBucket},
    error::{Error, Result},
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

    pub(super) async fn create_distribution(&mut self, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let aws = &self.ctx.aws;
        let request = desired
            .distribution
            .as_ref()
            .ok_or_else(|| Error::Waiting("no distribution to create".into()))?;
        let oac = oac_for(aws, request, &self.uid).await?;
        let discovery = &self.ctx.cache.distributions;
        let created = discovery.create(&self.uid, cloudfront::create(aws, request, &oac, &self.tags));
        let made = match Box::pin(created).await {
            // The caller reference was used by a pass that crashed before status named the
            // distribution (and the config has changed since): adopt that one.
            Err(e) if e.code() == Some("DistributionAlreadyExists") => {
                let listed = discovery.listing(&self.uid, || cloudfront::list(aws));
                Box::pin(cloudfront::find(aws, None, &self.uid, listed))
                    .await?
                    .ok_or_else(|| Error::Waiting(format!("CloudFront distribution of this stream: {e}")))?
            }
            other => other?,
        };
        let note = format!(
            "Created CloudFront distribution {} ({}); CloudFront is deploying it",
            made.id, made.domain
        );
        self.event("CreatedDistribution", note).await;
        observed.distribution = Some(made);
        Ok(())
    }

    pub(super) async fn update_distribution(&mut self, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let aws = &self.ctx.aws;
        let (Some(current), Some(request)) = (observed.distribution.as_ref(), desired.distribution.as_ref()) else {
            return Err(Error::Waiting("no distribution to update".into()));
        };
        let oac = oac_for(aws, request, &self.uid).await?;
        let made = match cloudfront::update(aws, current, &request.shape, &oac).await {
            // Changed since it was read: read it again next pass.
            Err(e) if e.code() == Some("PreconditionFailed") => {
                return Err(Error::Waiting(format!(
                    "CloudFront distribution {} changed meanwhile: {e}",
                    current.id
                )));
            }
            other => other?,
        };
        let note = format!("Updated CloudFront distribution {} to the spec", made.id);
        self.event("UpdatedDistribution", note).await;
        observed.distribution = Some(made);
        Ok(())
    }

    /// Delivery Direct: disable the distribution, or delete it once the disable is deployed.
    pub(super) async fn retire_distribution(&mut self, observed: &mut Observed) -> Result<()> {
        let Some(current) = observed.distribution.take() else {
            return Ok(());
        };
        let (reason, note, left) = step_down(&self.ctx.aws, &current, &self.uid).await?;
        self.event(reason, note).await;
        observed.distribution = left;
        Ok(())
    }
}

/// The shared origin access control a distribution's bucket origin signs with ("" without one).
async fn oac_for(aws: &AwsClients, request: &DistributionRequest, uid: &str) -> Result<String> {
    let signs = (request.shape.origins.iter()).any(|o| o.access == OriginAccess::S3 { signed: true });
    if !signs {
        return Ok(String::new());
    }
    cloudfront::ensure_oac(aws, &want::oac_name(uid)).await
}

/// One step down for a distribution that must go: disable it, or delete a disabled and deployed
/// one (then its origin access control, unless another distribution uses it). Returns the event
/// and the distribution as it is left (None once deleted); a deploying one is left as it is.
pub async fn step_down(
    aws: &AwsClients,
    current: &cloudfront::Distribution,
    uid: &str,
) -> Result<(&'static str, String, Option<cloudfront::Distribution>)> {
    let id = &current.id;
    if current.enabled() {
        let mut off = current.shape.clone();
        off.enabled = false;
        let oac = current.oac_id.clone().unwrap_or_default();
        let made = cloudfront::update(aws, current, &off, &oac).await?;
        let note = format!("Disabling CloudFront distribution {id}: it is deleted once CloudFront has deployed that");
        return Ok(("DisablingDistribution", note, Some(made)));
    }
    if !current.deployed() {
        let note = format!("CloudFront is deploying the disabled distribution {id}");
        return Err(Error::Waiting(note));
    }
    match cloudfront::delete(aws, current).await {
        Err(e) if e.code() == Some("DistributionNotDisabled") => {
            return Err(Error::Waiting(format!("CloudFront distribution {id}: {e}")));
        }
        other => other?,
    }
    cloudfront::retire_oac(aws, &want::oac_name(uid)).await?;
    Ok((
        "DeletedDistribution",
        format!("Deleted CloudFront distribution {id}"),
        None,
    ))
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
