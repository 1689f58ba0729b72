//! Teardown when a LiveStream is deleted: the CloudFront distribution is disabled first and
//! deleted once CloudFront has deployed that (minutes on AWS), while the rest goes meanwhile in
//! `aws::TEARDOWN_ORDER`: stop the channel, wait for IDLE, delete it, then the input (once
//! detached), the security group (once unused), the HLS endpoint and the MediaPackage channel. Each pass observes the whole snapshot and takes, for the
//! first kind still there, the step `plan::teardown_step` gives; "already gone" counts as done.
//! Only when nothing is left does the finalizer come off.

use kube::{
    ResourceExt,
    runtime::{controller::Action, events::EventType},
};

use super::{
    action,
    plan::{Found, TeardownStep, teardown_step},
};
use crate::observe::{Observed, cache::KindCache};
use crate::{
    api::{DeliveryMode, LiveStream},
    aws::{self, Kind, Managed, Ref, Role, TEARDOWN_ORDER, cloudfront, package_v2},
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
    let cdn_pending = step_down_distribution(stream, ctx, &uid).await?;
    for kind in TEARDOWN_ORDER {
        if kind == Kind::OriginEndpoint {
            observed.v2 = Some(Box::pin(ctx.cache.read_v2(&ctx.aws, &uid, &group, &names.channel)).await?);
        }
        // Every one of the kind in one pass (a v2 channel has three endpoints).
        while let Some((found, role, id)) = still_there(&observed, kind, &uid) {
            match teardown_step(&found) {
                TeardownStep::Wait(what) => return Err(Error::Waiting(format!("{what} ({id})"))),
                TeardownStep::Stop => {
                    let stop = aws::channel::stop(&ctx.aws, &id);
                    ctx.cache.channels.change(&uid, Role::Main, stop).await?;
                    let note = format!("Stopping MediaLive channel {id} before deleting it");
                    action(ctx, stream, "StoppingChannel", note.clone()).await;
                    return Err(Error::Waiting(note));
                }
                TeardownStep::Delete { settles } => {
                    let (reason, note) = delete(ctx, &uid, kind.role(role), &id).await?;
                    action(ctx, stream, reason, note.clone()).await;
                    if settles {
                        return Err(Error::Waiting(note));
                    }
                    deleted(&mut observed, kind, &id);
                }
            }
        }
    }
    if let Some(what) = cdn_pending {
        return Err(Error::Waiting(what));
    }
    // The shared group goes with its last channel, if the operator made it.
    if aws::package_v2::retire_group(&ctx.aws, &group).await?
        && observed.v2.as_ref().is_some_and(|v2| v2.channel.is_some())
    {
        action(
            ctx,
            stream,
            "DeletedChannelGroup",
            format!("Deleted MediaPackage v2 channel group {group}: no channel is left in it"),
        )
        .await;
    }
    super::website::remove(stream, ctx).await?;
    tracing::info!("every AWS resource is gone; removing the finalizer");
    Ok(Action::await_change())
}

/// One step down for the distribution, if there is one (found by status or by its comment: a
/// crash may have left one before status named it); what is still pending, if anything. A stream
/// that never used CloudFront makes no CloudFront call (an install without CloudFront rights).
async fn step_down_distribution(stream: &LiveStream, ctx: &Context, uid: &str) -> Result<Option<String>> {
    let status = stream.status.clone().unwrap_or_default();
    let used = status.cloud_front.is_some() || super::delivery(stream, &status, ctx).mode == DeliveryMode::CloudFront;
    if !used {
        return Ok(None);
    }
    let Some(found) = super::delivery::find_for_teardown(stream, ctx, uid).await? else {
        // A crash may have come between deleting the distribution and its access control.
        cloudfront::retire_oac(&ctx.aws, &crate::desired::cloudfront::oac_name(uid)).await?;
        return Ok(None);
    };
    match super::delivery::step_down(&ctx.aws, &found, uid).await {
        Ok((reason, note, left)) => {
            action(ctx, stream, reason, note.clone()).await;
            Ok(left.map(|_| note))
        }
        Err(Error::Waiting(what)) => Ok(Some(what)),
        Err(e) => Err(e),
    }
}

/// The stream's resource of this kind, if it is there, and its id. MediaPackage ids are
/// deterministic, but only ones tagged as this stream's are touched.
fn still_there(observed: &Observed, kind: Kind, uid: &str) -> Option<(Found, Role, String)> {
    // Each input's role in turn; every other kind is the stream's one.
    if kind == Kind::Input {
        let (role, input) = observed.inputs.iter().next()?;
        return Some((Found::Input(input.state.clone()), *role, input.id.clone()));
    }
    let main = |(found, id)| (found, Role::Main, id);
    let mine = |owner: Option<&str>| owner == Some(uid);
    let found = match kind {
        Kind::Channel => observed
            .channel
            .as_ref()
            .map(|c| (Found::Channel(c.state.clone()), c.id.clone())),
        Kind::SecurityGroup => observed
            .security_group
            .as_ref()
            .map(|g| (Found::SecurityGroup, g.id.clone())),
        Kind::Endpoint => observed
            .endpoint
            .as_ref()
            .filter(|e| mine(e.owner()))
            .map(|e| (Found::Endpoint, e.id.clone())),
        Kind::PackageChannel => observed
            .package_channel
            .as_ref()
            .filter(|c| mine(c.owner()))
            .map(|c| (Found::PackageChannel, c.id.clone())),
        Kind::OriginEndpoint => {
            let v2 = observed.v2.as_ref()?;
            let channel = v2.channel.as_ref()?;
            let endpoint = v2.endpoints.iter().find(|e| mine(e.owner.as_deref()))?;
            Some((
                Found::Endpoint,
                format!("{}/{}/{}", v2.group, channel.name, endpoint.name),
            ))
        }
        Kind::ChannelV2 => {
            let v2 = observed.v2.as_ref()?;
            let channel = v2.channel.as_ref().filter(|c| mine(c.owner.as_deref()))?;
            Some((Found::PackageChannel, format!("{}/{}", v2.group, channel.name)))
        }
        // Not in TEARDOWN_ORDER: stepped down before the others, without waiting on it; inputs
        // are above.
        Kind::Distribution | Kind::Input => None,
    };
    found.map(main)
}

/// A resource deleted without settling leaves the snapshot (ids as `still_there` gives them).
fn deleted(observed: &mut Observed, kind: Kind, id: &str) {
    match kind {
        Kind::Channel => observed.channel = None,
        Kind::Input => observed.inputs.retain(|_, i| i.id != id),
        Kind::SecurityGroup => observed.security_group = None,
        Kind::Endpoint => observed.endpoint = None,
        Kind::PackageChannel => observed.package_channel = None,
        Kind::OriginEndpoint => {
            let name = id.rsplit('/').next().unwrap_or_default();
            if let Some(v2) = observed.v2.as_mut() {
                v2.endpoints.retain(|e| e.name != name);
            }
        }
        Kind::ChannelV2 => {
            if let Some(v2) = observed.v2.as_mut() {
                v2.channel = None;
            }
        }
        Kind::Distribution => observed.distribution = None,
    }
}

/// Deletes it; a resource AWS still sees in use is waited for (each kind's `delete` says so).
async fn delete(ctx: &Context, uid: &str, what: Ref, id: &str) -> Result<(&'static str, String)> {
    let cache = &ctx.cache;
    let role = what.role;
    Ok(match what.kind {
        Kind::Channel => {
            remove(&cache.channels, ctx, uid, role, id).await?;
            ("DeletingChannel", format!("Deleting MediaLive channel {id}"))
        }
        Kind::Input => {
            remove(&cache.inputs, ctx, uid, role, id).await?;
            ("DeletingInput", format!("Deleting input {id}"))
        }
        Kind::SecurityGroup => {
            remove(&cache.security_groups, ctx, uid, role, id).await?;
            ("DeletedSecurityGroup", format!("Deleted input security group {id}"))
        }
        Kind::Endpoint => {
            remove(&cache.endpoints, ctx, uid, role, id).await?;
            ("DeletedEndpoint", format!("Deleted MediaPackage endpoint {id}"))
        }
        Kind::PackageChannel => {
            remove(&cache.package_channels, ctx, uid, role, id).await?;
            ("DeletedPackageChannel", format!("Deleted MediaPackage channel {id}"))
        }
        // v2 ids are `group/channel[/endpoint]`, as still_there writes them.
        Kind::OriginEndpoint => {
            let mut parts = id.splitn(3, '/');
            let (g, c, e) = (parts.next(), parts.next(), parts.next());
            package_v2::delete_endpoint(
                &ctx.aws,
                g.unwrap_or_default(),
                c.unwrap_or_default(),
                e.unwrap_or_default(),
            )
            .await?;
            (
                "DeletedOriginEndpoint",
                format!("Deleted MediaPackage v2 origin endpoint {id}"),
            )
        }
        Kind::ChannelV2 => {
            let (g, c) = id.split_once('/').unwrap_or_default();
            package_v2::delete_channel(&ctx.aws, g, c).await?;
            ("DeletedChannelV2", format!("Deleted MediaPackage v2 channel {id}"))
        }
        Kind::Distribution => return Err(Error::Waiting("the distribution is stepped down apart".into())),
    })
}

async fn remove<K: Managed>(cache: &KindCache<K>, ctx: &Context, uid: &str, role: Role, id: &str) -> Result<()> {
    Box::pin(cache.change(uid, role, K::delete(&ctx.aws, id))).await
}
