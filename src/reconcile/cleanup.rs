//! Teardown when a LiveStream is deleted: the plan in reverse, `aws::TEARDOWN_ORDER`. Each pass
//! observes the whole snapshot and takes every resource still there a step down, as its kind says
//! from its state (`Managed::teardown`): stop a running channel and wait for IDLE, delete it, then
//! the inputs (once detached), the security group, the endpoints and the MediaPackage channels. A
//! kind that waits stops the pass, except the CloudFront distribution, disabled first and deleted
//! once CloudFront has deployed that (minutes on AWS) while the rest goes meanwhile. "Already gone"
//! counts as done; only when nothing is left does the finalizer come off.

use kube::{
    ResourceExt,
    runtime::{controller::Action, events::EventType},
};

use super::act::take_down_all;
use crate::aws::each_kind;
use crate::{
    api::{DeliveryMode, LiveStream},
    aws::{self, Kind, Managed, Shared, TEARDOWN_ORDER},
    context::Context,
    desired::Names,
    error::{Error, Result},
};

/// Tears down, and reports what stops the teardown (a refused permission, a resource AWS will
/// not delete) in status and as an event, so a Terminating stream says why it stays.
pub async fn cleanup(stream: &LiveStream, ctx: &Context) -> Result<Action> {
    let error = match teardown(stream, ctx).await {
        Ok(action) => return Ok(action),
        Err(e) => e,
    };
    let quiet = matches!(error, Error::Waiting(_))
        || ((error.is_transient() || error.may_be_eventual_consistency())
            && ctx.consecutive_failures(stream) < super::REPORT_TRANSIENT_AFTER);
    if quiet {
        return Err(error);
    }
    let error = super::status::write_failure(stream, ctx, error).await?;
    super::publish(ctx, stream, EventType::Warning, error.reason(), error.to_string()).await;
    Err(error)
}

async fn teardown(stream: &LiveStream, ctx: &Context) -> Result<Action> {
    let uid = stream.uid().unwrap_or_default();
    let cached = stream.status.as_ref().and_then(|s| s.aws.clone()).unwrap_or_default();
    let names = Names::of(stream);
    // MediaPackage v2 is always looked at: a crash may have left a channel before status named it.
    let group = (cached.channel_group.clone())
        .or_else(|| stream.spec.packaging.channel_group.clone())
        .or_else(|| crate::placement::placed(stream))
        .unwrap_or_else(|| ctx.settings.channel_group.clone());
    // v2 is read in full (what AWS holds now, not what the last pass saw) once the kinds before it
    // are gone: passes that wait on MediaLive do not read it.
    let observe = ctx
        .cache
        .observe(&ctx.aws, ctx.settings.freshness(), &uid, &names, &cached, None);
    let mut observed = Box::pin(observe).await?;
    if super::uses_srt(stream) {
        observed.secret = Box::pin(aws::secret::find(&ctx.aws, &names.passphrase_secret)).await?;
    }
    let cdn = used_cloudfront(stream, ctx);
    if cdn {
        observed.distribution = super::delivery::find_for_teardown(stream, ctx, &uid).await?;
        if observed.distribution.is_none() {
            // A crash may have come between deleting the distribution and its access control.
            let oac = crate::desired::cloudfront::oac_name(&uid);
            aws::access_control::OriginAccessControl::retire(&ctx.aws, &oac).await?;
        }
    }
    // What a kind that does not hold the others up (a distribution CloudFront is deploying) is
    // still waiting for.
    let mut pending = None;
    // The v2 channel this pass found: its deletion retires the group (`Held::gone`).
    let mut found_v2_channel = false;
    for kind in TEARDOWN_ORDER {
        if kind == Kind::Page {
            observed.page = super::website::find_for_teardown(stream, ctx, &uid).await?;
        }
        if kind == Kind::OriginEndpoint {
            let v2 = Box::pin(ctx.cache.read_v2(&ctx.aws, &uid, &group, &names.channel)).await?;
            found_v2_channel = v2.channel.is_some();
            observed.v2 = Some(v2);
        }
        let (holds, left) = each_kind!(kind, |K| (
            K::HOLDS_TEARDOWN,
            Box::pin(take_down_all::<K>(ctx, stream, &uid, &mut observed)).await?
        ));
        match left {
            Some(what) if holds => return Err(Error::Waiting(what)),
            Some(what) => pending = Some(what),
            None => {}
        }
    }
    if let Some(what) = pending {
        return Err(Error::Waiting(what));
    }
    // The shared group goes with its last channel (a crash may have come between the two).
    if !found_v2_channel {
        aws::package_v2::ChannelGroup::retire(&ctx.aws, &group).await?;
    }
    tracing::info!("every AWS resource is gone; removing the finalizer");
    Ok(Action::await_change())
}

/// A stream that never used CloudFront makes no CloudFront call (an install without CloudFront
/// rights).
fn used_cloudfront(stream: &LiveStream, ctx: &Context) -> bool {
    let status = stream.status.clone().unwrap_or_default();
    status.cloud_front.is_some() || super::delivery(stream, &status, ctx).mode == DeliveryMode::CloudFront
}
