//! Teardown when a LiveStream is deleted, in the order declared by `plan::TEARDOWN_ORDER`: stop
//! the channel, wait for IDLE, delete it, then the input (once detached), the security group (once
//! unused), the HLS endpoint and the MediaPackage channel. Each pass re-reads AWS kind by kind and
//! takes the step `plan::teardown_step` gives; "already gone" counts as done. Only when nothing is
//! left does the finalizer come off.

use aws_sdk_medialive::types::{ChannelState, InputState};
use kube::{ResourceExt, runtime::controller::Action};

use super::{
    action, observe,
    plan::{Found, Kind, TEARDOWN_ORDER, TeardownStep, teardown_step},
};
use crate::{
    api::{AwsResources, LiveStream},
    context::Context,
    desired::Names,
    error::{Error, Result, found},
};

pub async fn cleanup(stream: &LiveStream, ctx: &Context) -> Result<Action> {
    let teardown = Teardown {
        ctx,
        uid: stream.uid().unwrap_or_default(),
        cached: stream.status.as_ref().and_then(|s| s.aws.clone()).unwrap_or_default(),
        names: Names::of(stream),
    };
    for kind in TEARDOWN_ORDER {
        let Some((found, id)) = teardown.observe(kind).await? else {
            continue;
        };
        match teardown_step(&found) {
            TeardownStep::Wait(what) => return Err(Error::Waiting(format!("{what} ({id})"))),
            TeardownStep::Stop => {
                let stopped = ctx.aws.medialive.stop_channel().channel_id(&id).send().await;
                stopped.map_err(|e| Error::aws("StopChannel", e))?;
                let note = format!("Stopping MediaLive channel {id} before deleting it");
                action(ctx, stream, "StoppingChannel", note.clone()).await;
                return Err(Error::Waiting(note));
            }
            TeardownStep::Delete { settles } => {
                let (reason, note) = teardown.delete(kind, &id).await?;
                action(ctx, stream, reason, note.clone()).await;
                if settles {
                    return Err(Error::Waiting(note));
                }
            }
        }
    }
    super::website::remove(stream, ctx).await?;
    tracing::info!("every AWS resource is gone; removing the finalizer");
    Ok(Action::await_change())
}

struct Teardown<'a> {
    ctx: &'a Context,
    uid: String,
    cached: AwsResources,
    names: Names,
}

impl Teardown<'_> {
    /// The stream's resource of this kind, if it is still there, and its id. MediaPackage names are
    /// deterministic, but only ones tagged as this stream's are touched.
    async fn observe(&self, kind: Kind) -> Result<Option<(Found, String)>> {
        let (aws, listings, uid) = (&self.ctx.aws, &self.ctx.listings, self.uid.as_str());
        let id = |id: &Option<String>| id.clone().unwrap_or_default();
        Ok(match kind {
            Kind::Channel => observe::channel(aws, listings, self.cached.channel_id.as_deref(), uid)
                .await?
                .map(|c| {
                    (
                        Found::Channel(c.state.clone().unwrap_or(ChannelState::Creating)),
                        id(&c.id),
                    )
                }),
            Kind::Input => observe::input(aws, listings, self.cached.input_id.as_deref(), uid)
                .await?
                .map(|i| (Found::Input(i.state.clone().unwrap_or(InputState::Creating)), id(&i.id))),
            Kind::SecurityGroup => {
                observe::security_group(aws, listings, self.cached.input_security_group_id.as_deref(), uid)
                    .await?
                    .map(|g| (Found::SecurityGroup, id(&g.id)))
            }
            Kind::Endpoint => observe::endpoint(aws, &self.names.endpoint)
                .await?
                .filter(|e| observe::check_owner("endpoint", &self.names.endpoint, e.tags.as_ref(), uid).is_ok())
                .map(|_| (Found::Endpoint, self.names.endpoint.clone())),
            Kind::PackageChannel => observe::package_channel(aws, &self.names.channel)
                .await?
                .filter(|c| observe::check_owner("channel", &self.names.channel, c.tags.as_ref(), uid).is_ok())
                .map(|_| (Found::PackageChannel, self.names.channel.clone())),
        })
    }

    /// Deletes it ("already gone" is done); a resource AWS still sees in use is waited for.
    async fn delete(&self, kind: Kind, id: &str) -> Result<(&'static str, String)> {
        let (medialive, mediapackage) = (&self.ctx.aws.medialive, &self.ctx.aws.mediapackage);
        let result = match kind {
            Kind::Channel => {
                let deleted = medialive.delete_channel().channel_id(id).send().await;
                found(deleted.map_err(|e| Error::aws("DeleteChannel", e))).map(drop)
            }
            Kind::Input => {
                let deleted = medialive.delete_input().input_id(id).send().await;
                found(deleted.map_err(|e| Error::aws("DeleteInput", e))).map(drop)
            }
            Kind::SecurityGroup => {
                let deleted = medialive
                    .delete_input_security_group()
                    .input_security_group_id(id)
                    .send()
                    .await;
                found(deleted.map_err(|e| Error::aws("DeleteInputSecurityGroup", e))).map(drop)
            }
            Kind::Endpoint => {
                let deleted = mediapackage.delete_origin_endpoint().id(id).send().await;
                found(deleted.map_err(|e| Error::aws("DeleteOriginEndpoint", e))).map(drop)
            }
            Kind::PackageChannel => {
                let deleted = mediapackage.delete_channel().id(id).send().await;
                found(deleted.map_err(|e| Error::aws("DeleteChannel", e))).map(drop)
            }
        };
        match (kind, result) {
            (_, Ok(())) => Ok(match kind {
                Kind::Channel => ("DeletingChannel", format!("Deleting MediaLive channel {id}")),
                Kind::Input => ("DeletingInput", format!("Deleting input {id}")),
                Kind::SecurityGroup => ("DeletedSecurityGroup", format!("Deleted input security group {id}")),
                Kind::Endpoint => ("DeletedEndpoint", format!("Deleted MediaPackage endpoint {id}")),
                Kind::PackageChannel => ("DeletedPackageChannel", format!("Deleted MediaPackage channel {id}")),
            }),
            // Still referenced by an input that is being deleted.
            (Kind::SecurityGroup, Err(e)) if e.code() == Some("BadRequestException") => {
                Err(Error::Waiting(format!("security group {id} is in use")))
            }
            // Its endpoint is still being deleted.
            (Kind::PackageChannel, Err(e)) if e.code() == Some("UnprocessableEntityException") => {
                Err(Error::Waiting(format!("MediaPackage channel {id}: {e}")))
            }
            (_, Err(e)) => Err(e),
        }
    }
}
