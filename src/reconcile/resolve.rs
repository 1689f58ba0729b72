//! Resolve: the first stage of a pass. Everything the pass needs from the spec is settled here, once,
//! against the previous status and the operator's settings — names, the MediaLive role, the
//! packaging and delivery a stream keeps, the recording, the RTMP target (the one Secret read), the
//! schedule, the player page's site, what the channel's running asks. The stages after it read
//! these, not `stream.spec` (the distribution's request builder takes the stream's identity).

use kube::ResourceExt;

use super::{intent, plan, stream_key};
use crate::{
    api::{LiveStream, LiveStreamStatus, PriceClass, UpdatePolicy},
    context::Context,
    desired::{Names, ingest::IngestTarget, recording::Recording, schedule::Schedule, website::Site},
    error::{Error, Result},
};

/// What the spec asks, resolved for this pass.
pub struct Resolved {
    pub names: Names,
    /// The channel's IAM role: `spec.roleArn`, else the operator's `--medialive-role-arn`.
    pub role: String,
    /// The description MediaPackage resources carry.
    pub description: String,
    /// Where the input publishes; an error when the stream-key Secret cannot be used.
    pub target: Result<IngestTarget>,
    /// The MediaPackage version and group the stream uses (see `packaging`).
    pub packaging: plan::Packaging,
    /// How viewers reach it (see `delivery`).
    pub delivery: plan::Delivery,
    pub price_class: PriceClass,
    /// What the channel records, if anything.
    pub recording: Option<Recording>,
    /// Where the player page goes; `None`: disabled, or no bucket.
    pub website: Option<Site>,
    /// `spec.recording.enabled` without any bucket: reported, and the channel goes on without.
    pub recording_problem: Option<String>,
    /// `spec.schedule`, read; the error says what is wrong with it.
    pub schedule: Option<Result<Schedule, String>>,
    /// `spec.running` and the cost guards' limits.
    pub asked: intent::Asked,
    pub update_policy: UpdatePolicy,
    /// What the requests carry as the spec has it.
    pub asks: plan::Asks,
    /// The input's `app/instance` stream name, and whether the key is a Secret's (for redaction).
    pub stream_name: String,
    pub key_from_secret: bool,
}

/// `spec.maxRunDuration` in seconds, for the metrics (known even when the spec cannot be resolved).
pub fn max_run_seconds(stream: &LiveStream) -> Option<f64> {
    (stream.spec.max_run_duration.as_ref()).map(|d| std::time::Duration::from(*d).as_secs_f64())
}

const NO_ROLE: &str = "no IAM role for MediaLive: set spec.roleArn or the operator's --medialive-role-arn";

/// Resolves `stream`'s spec against its previous `status` and the operator's settings. Fails, before
/// anything is observed, when the spec cannot be applied (no role, a packaging change that cannot
/// be made).
pub async fn resolve(stream: &LiveStream, ctx: &Context, status: &LiveStreamStatus) -> Result<Resolved> {
    let spec = &stream.spec;
    let settings = &ctx.settings;
    let role = (spec.role_arn.clone())
        .or_else(|| settings.role_arn.clone())
        .ok_or_else(|| Error::Invalid(NO_ROLE.into()))?;
    let target = stream_key::ingest_target(stream, ctx).await;
    let packaging = super::packaging(stream, status, ctx)?;
    let recording = crate::desired::recording::of(stream, settings.recording_bucket.as_deref());
    let recording_problem = (recording.is_none() && spec.recording.enabled).then(|| {
        "spec.recording.enabled: no bucket to record to: set spec.recording.bucket or the operator's --recording-bucket"
            .to_owned()
    });
    let website = (spec.website.bucket.clone())
        .or_else(|| settings.website_bucket.clone())
        .filter(|_| spec.website.enabled)
        .map(|bucket| Site::of(stream, bucket, ctx.aws.endpoint_url.as_deref(), &ctx.aws.region));
    let names = Names::of(stream);
    // Overrides that do not apply stop the pass before anything is asked of AWS.
    let asks = plan::Asks::of(spec).map_err(Error::Invalid)?;
    (asks.check_overrides(&names, &role, recording.as_ref())).map_err(Error::Invalid)?;
    Ok(Resolved {
        website,
        names,
        role,
        description: format!(
            "LiveStream {}/{}",
            stream.namespace().unwrap_or_default(),
            stream.name_any()
        ),
        target,
        packaging,
        delivery: super::delivery(stream, status, ctx),
        price_class: spec.delivery.price_class,
        recording,
        recording_problem,
        schedule: spec.schedule.as_ref().map(Schedule::parse),
        asked: intent::Asked::of(spec),
        update_policy: spec.update_policy,
        asks,
        stream_name: spec.input.stream_name.clone(),
        key_from_secret: spec.input.stream_key_secret_ref.is_some(),
    })
}
