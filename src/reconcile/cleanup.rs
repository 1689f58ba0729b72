//! Teardown when a LiveStream is deleted, in the only order AWS accepts: stop the channel, wait for
//! IDLE, delete it, then the input (once detached), the security group (once unused), the HLS
//! endpoint and the MediaPackage channel. Each pass re-reads AWS and takes the next step; "already
//! gone" counts as done. Only when nothing is left does the finalizer come off.

use aws_sdk_medialive::types::{ChannelState, InputState};
use kube::{ResourceExt, runtime::controller::Action};

use super::{action, observe};
use crate::{
    api::LiveStream,
    context::Context,
    desired::Names,
    error::{Error, Result, found},
};

pub async fn cleanup(stream: &LiveStream, ctx: &Context) -> Result<Action> {
    let aws = &ctx.aws;
    let uid = stream.uid().unwrap_or_default();
    let cached = stream.status.as_ref().and_then(|s| s.aws.clone()).unwrap_or_default();
    let names = Names::of(stream);
    // An action that AWS carries out over time: wait for it, then look again.
    let step = |reason: &'static str, note: String| async move {
        action(ctx, stream, reason, note.clone()).await;
        Err(Error::Waiting(note))
    };

    if let Some(channel) = observe::channel(aws, &ctx.listings, cached.channel_id.as_deref(), &uid).await? {
        let id = channel.id.clone().unwrap_or_default();
        return match channel.state.unwrap_or(ChannelState::Creating) {
            ChannelState::Running | ChannelState::Starting | ChannelState::Recovering => {
                aws.medialive
                    .stop_channel()
                    .channel_id(&id)
                    .send()
                    .await
                    .map_err(|e| Error::aws("StopChannel", e))?;
                step(
                    "StoppingChannel",
                    format!("Stopping MediaLive channel {id} before deleting it"),
                )
                .await
            }
            ChannelState::Idle | ChannelState::CreateFailed | ChannelState::UpdateFailed => {
                found(
                    aws.medialive
                        .delete_channel()
                        .channel_id(&id)
                        .send()
                        .await
                        .map_err(|e| Error::aws("DeleteChannel", e)),
                )?;
                step("DeletingChannel", format!("Deleting MediaLive channel {id}")).await
            }
            other => Err(Error::Waiting(format!("channel {id} is {other}"))),
        };
    }
    if let Some(input) = observe::input(aws, &ctx.listings, cached.input_id.as_deref(), &uid).await? {
        let id = input.id.clone().unwrap_or_default();
        return match input.state.unwrap_or(InputState::Creating) {
            InputState::Detached => {
                found(
                    aws.medialive
                        .delete_input()
                        .input_id(&id)
                        .send()
                        .await
                        .map_err(|e| Error::aws("DeleteInput", e)),
                )?;
                step("DeletingInput", format!("Deleting input {id}")).await
            }
            other => Err(Error::Waiting(format!("input {id} is {other}"))),
        };
    }
    if let Some(group) =
        observe::security_group(aws, &ctx.listings, cached.input_security_group_id.as_deref(), &uid).await?
    {
        let id = group.id.clone().unwrap_or_default();
        let deleted = aws
            .medialive
            .delete_input_security_group()
            .input_security_group_id(&id)
            .send()
            .await;
        match found(deleted.map_err(|e| Error::aws("DeleteInputSecurityGroup", e))) {
            Ok(_) => {
                action(
                    ctx,
                    stream,
                    "DeletedSecurityGroup",
                    format!("Deleted input security group {id}"),
                )
                .await;
            }
            // Still referenced by an input that is being deleted.
            Err(e) if e.code() == Some("BadRequestException") => {
                return Err(Error::Waiting(format!("security group {id} is in use")));
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(endpoint) = observe::endpoint(aws, &names.endpoint).await?
        && observe::check_owner("endpoint", &names.endpoint, endpoint.tags.as_ref(), &uid).is_ok()
    {
        found(
            aws.mediapackage
                .delete_origin_endpoint()
                .id(&names.endpoint)
                .send()
                .await
                .map_err(|e| Error::aws("DeleteOriginEndpoint", e)),
        )?;
        action(
            ctx,
            stream,
            "DeletedEndpoint",
            format!("Deleted MediaPackage endpoint {}", names.endpoint),
        )
        .await;
    }
    if let Some(channel) = observe::package_channel(aws, &names.channel).await?
        && observe::check_owner("channel", &names.channel, channel.tags.as_ref(), &uid).is_ok()
    {
        match found(
            aws.mediapackage
                .delete_channel()
                .id(&names.channel)
                .send()
                .await
                .map_err(|e| Error::aws("DeleteChannel", e)),
        ) {
            Ok(_) => {
                action(
                    ctx,
                    stream,
                    "DeletedPackageChannel",
                    format!("Deleted MediaPackage channel {}", names.channel),
                )
                .await;
            }
            Err(e) if e.code() == Some("UnprocessableEntityException") => {
                return Err(Error::Waiting(format!("MediaPackage channel {}: {e}", names.channel)));
            }
            Err(e) => return Err(e),
        }
    }
    super::website::remove(stream, ctx).await?;
    tracing::info!("every AWS resource is gone; removing the finalizer");
    Ok(Action::await_change())
}
