//! The clips' controller: each `LiveStreamClip` becomes one MediaPackage v2 harvest job on its
//! stream's HLS endpoint (validate → the bucket and its grant → the job → status from the job),
//! under a finalizer that cancels a running job and deletes the VOD only if the spec asks.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};
use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{
        Controller,
        controller::Action,
        finalizer::{Event, finalizer},
        watcher,
    },
};
use tracing::{Instrument, info_span, warn};

use crate::{
    api::{LiveStream, LiveStreamClip, LiveStreamClipStatus, set_condition},
    aws::{
        Shared,
        harvest::{self, JobRequest},
        s3,
    },
    context::{Context, FIELD_MANAGER},
    desired::{clip, mediapackagev2::ManifestKind, owner_tags, website::Grant},
    error::{Error, Result},
};

const FINALIZER: &str = "media.livestream.io/harvest-job";
/// The manifest every v2 endpoint serves (`desired::mediapackagev2::MANIFEST`).
const MANIFEST_NAME: &str = "index";

/// Runs the clips' controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let clips: Api<LiveStreamClip> = match namespace.as_deref() {
        Some(ns) => Api::namespaced(ctx.client.clone(), ns),
        None => Api::all(ctx.client.clone()),
    };
    Controller::new(clips, watcher::Config::default().any_semantic())
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(kube::runtime::controller::Error::ReconcilerFailed(e, object)) = result {
                warn!(clip = %object.name, error = %e, "clip reconcile failed");
            }
        })
        .await;
}

async fn reconcile(clip: Arc<LiveStreamClip>, ctx: Arc<Context>) -> Result<Action> {
    let ns = clip.namespace().unwrap_or_default();
    let span = info_span!("reconcile", clip = %format!("{ns}/{}", clip.name_any()));
    let api: Api<LiveStreamClip> = Api::namespaced(ctx.client.clone(), &ns);
    let work = finalizer(&api, FINALIZER, clip, |event| async {
        match event {
            Event::Apply(clip) => apply(&clip, &ctx).await,
            Event::Cleanup(clip) => cleanup(&clip, &ctx).await,
        }
    });
    work.instrument(span).await.map_err(|e| Error::Finalizer(Box::new(e)))
}

fn error_policy(_clip: Arc<LiveStreamClip>, error: &Error, _ctx: Arc<Context>) -> Action {
    match error.inner() {
        Error::Waiting(_) => Action::requeue(Duration::from_secs(2)),
        _ => Action::requeue(Duration::from_secs(15)),
    }
}

/// Where the clip's job runs: the stream's v2 channel group, channel and HLS endpoint.
struct Target {
    group: String,
    channel: String,
    account: String,
}

fn target(stream: &LiveStream) -> Option<Target> {
    let aws = stream.status.as_ref()?.aws.as_ref()?;
    Some(Target {
        group: aws.channel_group.clone()?,
        channel: stream.channel_id(),
        account: clip::account(aws.media_package_v2_channel_arn.as_deref()?)?.to_owned(),
    })
}

async fn apply(clip: &LiveStreamClip, ctx: &Context) -> Result<Action> {
    let mut status = clip.status.clone().unwrap_or_default();
    let outcome = step(clip, ctx, &mut status).await;
    let (ready, reason, message) = match (&outcome, status.state.as_deref()) {
        (Err(e), _) => (false, e.reason().to_owned(), e.to_string()),
        (Ok(_), Some("COMPLETED")) => (true, "Completed".into(), "the VOD is in S3".into()),
        (Ok(_), Some("FAILED")) => (
            false,
            "HarvestFailed".into(),
            status.message.clone().unwrap_or_default(),
        ),
        (Ok(_), state) => (
            false,
            "Harvesting".into(),
            format!("the harvest job is {}", state.unwrap_or("being created")),
        ),
    };
    set_condition(
        &mut status.conditions,
        Condition {
            type_: "Ready".into(),
            status: if ready { "True" } else { "False" }.into(),
            reason,
            message,
            observed_generation: clip.meta().generation,
            last_transition_time: Time(Timestamp::now()),
        },
    );
    let api: Api<LiveStreamClip> = Api::namespaced(ctx.client.clone(), &clip.namespace().unwrap_or_default());
    let patch =
        serde_json::json!({ "apiVersion": "media.livestream.io/v1alpha1", "kind": "LiveStreamClip", "status": status });
    api.patch_status(
        &clip.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    match outcome {
        Ok(true) => Ok(Action::await_change()),
        Ok(false) => Ok(Action::requeue(Duration::from_secs(2))),
        // Invalid input waits for the user (or the stream) to change; the rest is retried.
        Err(Error::Invalid(_)) => Ok(Action::requeue(Duration::from_secs(30))),
        Err(e) => Err(e),
    }
}

/// One pass; true once the job has finished.
async fn step(clip: &LiveStreamClip, ctx: &Context, status: &mut LiveStreamClipStatus) -> Result<bool> {
    let streams: Api<LiveStream> = Api::namespaced(ctx.client.clone(), &clip.namespace().unwrap_or_default());
    let name = &clip.spec.stream;
    let stream = (streams.get_opt(name).await?)
        .ok_or_else(|| Error::Invalid(format!("spec.stream: there is no LiveStream {name} in this namespace")))?;
    let target = target(&stream);
    let endpoint = ManifestKind::Hls.endpoint_name();
    let job_name = clip::job_name(clip);
    if status.job_name.is_none() {
        if let Some(problem) = clip::problem(clip, &stream, Timestamp::now()) {
            return Err(Error::Invalid(problem));
        }
        let target = target
            .as_ref()
            .ok_or_else(|| Error::Waiting(format!("LiveStream {name}'s v2 channel")))?;
        let bucket = bucket(clip, &stream, ctx).ok_or_else(|| {
            Error::Invalid("spec.bucket: no bucket for the VOD: set it, or give the stream a player-page bucket".into())
        })?;
        s3::Bucket::ensure(&ctx.aws, &bucket).await?;
        s3::grant(&ctx.aws, &bucket, &Grant::harvest(&bucket, &target.account)).await?;
        let path = clip::destination_path(clip);
        let request = JobRequest {
            group: &target.group,
            channel: &target.channel,
            endpoint,
            manifest: MANIFEST_NAME,
            name: &job_name,
            start_seconds: clip.spec.start.0.as_second(),
            end_seconds: clip.spec.end.0.as_second(),
            bucket: &bucket,
            path: &path,
            client_token: &clip.uid().unwrap_or_default(),
        };
        harvest::create(&ctx.aws, &request, &owner_tags(&stream)).await?;
        status.job_name = Some(job_name.clone());
        status.manifest = Some(format!("s3://{bucket}/{path}/{}", clip::MANIFEST));
        status.playback_url = playback_url(&stream, &bucket, &path, ctx);
    }
    let target = target.ok_or_else(|| Error::Waiting(format!("LiveStream {name}'s v2 channel")))?;
    let job = harvest::get(&ctx.aws, &target.group, &target.channel, endpoint, &job_name).await?;
    let job = job.ok_or_else(|| Error::Waiting(format!("harvest job {job_name} is not visible yet")))?;
    status.state = Some(job.status.clone());
    status.message = job.error_message.clone();
    Ok(job.finished())
}

/// The spec's bucket, else the stream's player-page bucket, else the operator's recordings one.
fn bucket(clip: &LiveStreamClip, stream: &LiveStream, ctx: &Context) -> Option<String> {
    let page = (stream.spec.website.bucket.clone()).or_else(|| ctx.settings.website_bucket.clone());
    (clip.spec.bucket.clone())
        .or(page.filter(|_| stream.spec.website.enabled))
        .or_else(|| ctx.settings.recording_bucket.clone())
}

/// Through the stream's distribution when the VOD is in its player bucket; else the S3 URL.
fn playback_url(stream: &LiveStream, bucket: &str, path: &str, ctx: &Context) -> Option<String> {
    let status = stream.status.as_ref()?;
    let key = format!("{path}/{}", clip::MANIFEST);
    let through = status.cloud_front.as_ref().zip(status.playback_url.as_deref());
    if let Some((cf, playback)) = through.filter(|_| status.website_bucket.as_deref() == Some(bucket)) {
        let scheme = playback.split_once("://")?.0;
        return Some(format!("{scheme}://{}/{key}", cf.domain_name));
    }
    Some(match &ctx.aws.endpoint_url {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", ctx.aws.region),
    })
}

/// A running job is cancelled; the VOD stays unless `deleteFilesOnDelete`.
async fn cleanup(clip: &LiveStreamClip, ctx: &Context) -> Result<Action> {
    let status = clip.status.clone().unwrap_or_default();
    let streams: Api<LiveStream> = Api::namespaced(ctx.client.clone(), &clip.namespace().unwrap_or_default());
    let target = (streams.get_opt(&clip.spec.stream).await?).as_ref().and_then(target);
    if let (Some(job), Some(target)) = (&status.job_name, &target)
        && !matches!(status.state.as_deref(), Some("COMPLETED" | "FAILED" | "CANCELLED"))
    {
        let endpoint = ManifestKind::Hls.endpoint_name();
        harvest::cancel(&ctx.aws, &target.group, &target.channel, endpoint, job).await?;
    }
    if clip.spec.delete_files_on_delete
        && let Some(manifest) = &status.manifest
        && let Some((bucket, _)) = manifest.trim_start_matches("s3://").split_once('/')
    {
        delete_prefix(ctx, bucket, &format!("{}/", clip::destination_path(clip))).await?;
    }
    Ok(Action::await_change())
}

async fn delete_prefix(ctx: &Context, bucket: &str, prefix: &str) -> Result<()> {
    for key in s3::keys(&ctx.aws, bucket, prefix).await?.unwrap_or_default() {
        s3::delete_object(&ctx.aws, bucket, &key).await?;
    }
    Ok(())
}
