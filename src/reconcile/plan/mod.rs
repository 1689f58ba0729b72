//! Plan: what to do next, as pure functions of what AWS holds (`Observed`) and what the spec asks
//! (`Desired`): no I/O, so every combination is a unit test that runs in microseconds. The
//! executor (`execute.rs`) carries the steps out, folds AWS's answers into the snapshot and asks
//! again until nothing is left to do; the outcome of that last plan becomes status.
//!
//! Kinds are planned in dependency order — MediaPackage channel, endpoint (and the player page
//! that links to it), security group, input, MediaLive channel — and the channel only once
//! everything it reads from or writes to has converged.

mod channel;
mod delivery;
mod package_v2;

use std::collections::BTreeMap;

use aws_sdk_medialive::types::{ChannelState, InputState};

pub use channel::{ChannelFacts, ChannelStep, Guard, InputFacts, InputStep, StopReason, channel_step, input_step};
pub use delivery::Delivery;

use crate::observe::Observed;
use crate::{
    api::{DeliveryMode, EncodingSpec, LiveStreamSpec, PackagingSpec, PackagingVersion, UpdatePolicy},
    aws::{EndpointRequest, InputRequest, Kind, Managed, PackageChannelRequest, Ref, Role},
    desired::{
        Names,
        cloudfront::DistributionRequest,
        ingest::IngestTarget,
        medialive::{ChannelSettings, PackageTarget, channel_settings_of, with_engine_version},
        mediapackage::hls_package,
        mediapackagev2::{self, ChannelRequest},
        overlay::Overlay,
        redundancy::Resilience,
        website::PageRequest,
    },
    error::Error,
};

/// What the spec asks of each kind, given the ids of what exists so far.
pub struct Desired {
    /// The MediaPackage version the stream is packaged with (see `PackagingSpec::effective_version`).
    pub version: PackagingVersion,
    pub package_channel: PackageChannelRequest,
    pub endpoint: EndpointRequest,
    pub cidrs: Vec<String>,
    /// The roles of the inputs the spec asks for (the channel attaches them in this order).
    pub input_roles: Vec<Role>,
    /// Each input's request: none until the security group exists, or while the stream key
    /// cannot be read.
    pub inputs: BTreeMap<Role, InputRequest>,
    /// The Secrets Manager secret of an SRT input's passphrase.
    pub secret: Option<crate::desired::srt::SecretRequest>,
    /// None until every input exists.
    pub channel: Option<crate::desired::medialive::ChannelSettings>,
    pub v2_channel: ChannelRequest,
    pub v2_endpoints: Vec<mediapackagev2::EndpointRequest>,
    pub delivery: Delivery,
    /// With delivery CloudFront, once the origin has a URL.
    pub distribution: Option<DistributionRequest>,
    /// The channel also records (an Archive output group).
    pub recording: Option<crate::desired::recording::Recording>,
    /// The player page, once there is a playback URL (and, with CloudFront, a distribution).
    pub page: Option<PageRequest>,
}

impl Desired {
    /// How viewers reach the stream, and the distribution that gives (built by the caller, who
    /// has the stream and the origin's URL).
    pub fn with_delivery(mut self, delivery: Delivery, distribution: Option<DistributionRequest>) -> Self {
        self.distribution = distribution.filter(|_| delivery.mode == DeliveryMode::CloudFront);
        self.delivery = delivery;
        self
    }
}

impl Desired {
    /// The channel records to `recording` too (its top rendition of `asks`).
    pub fn with_recording(mut self, recording: Option<crate::desired::recording::Recording>, asks: &Asks) -> Self {
        if let (Some(channel), Some(r)) = (self.channel.as_mut(), recording.as_ref()) {
            crate::desired::recording::add_archive(channel, &asks.encoding.renditions, r);
        }
        self.recording = recording;
        self
    }

    /// The channel's request with `spec.encoding.overrides` applied, last (they see the recording's
    /// output group too). Resolve checked that they apply to this stream's request: should they not,
    /// no channel is asked for rather than one without them.
    pub fn with_overrides(mut self, asks: &Asks) -> Self {
        if let Some(channel) = self.channel.as_mut()
            && asks.overlay.apply(&mut channel.request).is_err()
        {
            self.channel = None;
        }
        self
    }
}

/// Which MediaPackage, and for v2 which channel group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packaging {
    pub version: PackagingVersion,
    pub group: String,
    /// The operator chose the group (the stream names none and has no channel yet): a full group
    /// moves the stream to the next one (see `placement`).
    pub placed: bool,
}

/// The parts of the spec the requests carry as they are (the ladder, the packaging's endpoints
/// and segments, the ingest CIDRs); what the pass decides from the spec is resolved elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub struct Asks {
    pub encoding: EncodingSpec,
    pub packaging: PackagingSpec,
    pub allowed_cidrs: Vec<String>,
    /// Pipelines and the backup input.
    pub resilience: Resilience,
    /// `spec.encoding.overrides`.
    pub overlay: Overlay,
    /// `spec.engineVersion`.
    pub engine_version: Option<String>,
}

impl Asks {
    /// Fails (naming the field) when the overrides cannot be read.
    pub fn of(spec: &LiveStreamSpec) -> Result<Self, String> {
        Ok(Self {
            encoding: spec.encoding.clone(),
            packaging: spec.packaging.clone(),
            allowed_cidrs: spec.input.allowed_cidrs.clone(),
            resilience: Resilience::of(spec),
            overlay: Overlay::of(spec.encoding.overrides.as_ref())?,
            engine_version: spec.engine_version.clone(),
        })
    }

    /// The channel's request from the ladder, the engine version and the pipelines (`Desired`
    /// adds the recording and the overrides once it knows them, in `channel`'s order).
    fn ladder(&self, names: &Names, inputs: &[(Role, &str)], role: &str, target: PackageTarget) -> ChannelSettings {
        let (encoding, packaging, resilience) = (&self.encoding, &self.packaging, &self.resilience);
        let mut channel = channel_settings_of(encoding, packaging, resilience, names, inputs, role, target);
        with_engine_version(&mut channel, self.engine_version.as_deref());
        channel
    }

    /// The whole request: the ladder, the recording's group, then the overrides; the error names
    /// the override that does not apply.
    pub fn channel(
        &self,
        names: &Names,
        inputs: &[(Role, &str)],
        role: &str,
        target: PackageTarget,
        recording: Option<&crate::desired::recording::Recording>,
    ) -> Result<ChannelSettings, String> {
        let mut channel = self.ladder(names, inputs, role, target);
        if let Some(recording) = recording {
            crate::desired::recording::add_archive(&mut channel, &self.encoding.renditions, recording);
        }
        self.overlay.apply(&mut channel.request)?;
        Ok(channel)
    }

    /// The overrides apply to this stream's channel request (the request has the same members
    /// whatever the ids of what it reads from and writes to): the error names the operation that
    /// does not.
    pub fn check_overrides(
        &self,
        names: &Names,
        role: &str,
        recording: Option<&crate::desired::recording::Recording>,
    ) -> Result<(), String> {
        let inputs: Vec<(Role, &str)> = (self.resilience.input_roles().into_iter())
            .map(|role| (role, "input"))
            .collect();
        self.channel(names, &inputs, role, PackageTarget::V1, recording)
            .map(drop)
    }
}

impl Desired {
    pub fn of(
        asks: &Asks,
        names: &Names,
        description: String,
        role: &str,
        target: Option<&IngestTarget>,
        observed: &Observed,
        packaging: &Packaging,
    ) -> Self {
        let package_target = match packaging.version {
            PackagingVersion::V1 => PackageTarget::V1,
            PackagingVersion::V2 => PackageTarget::V2 {
                group: &packaging.group,
            },
        };
        let input_roles = asks.resilience.input_roles();
        let srt = target.and_then(IngestTarget::srt);
        let secret = srt.map(|t| crate::desired::srt::SecretRequest::of(&names.passphrase_secret, t));
        let secret_arn = observed.secret.as_ref().map(|s| s.arn.clone());
        // An SRT input decrypts with the secret: it is asked for once the secret exists.
        let target = target.filter(|_| srt.is_none() || secret_arn.is_some());
        let inputs = observed
            .security_group
            .as_ref()
            .zip(target)
            .map(|(group, target)| {
                let request = |role: Role| InputRequest {
                    name: names.input(role),
                    security_group: group.id.clone(),
                    target: target.clone(),
                    pipelines: asks.resilience.pipelines(),
                    secret_arn: secret_arn.clone(),
                };
                input_roles.iter().map(|&role| (role, request(role))).collect()
            })
            .unwrap_or_default();
        let attached: Option<Vec<_>> = (input_roles.iter())
            .map(|role| observed.inputs.get(role).map(|i| (*role, i.id.as_str())))
            .collect();
        let v2_channel = ChannelRequest {
            group: packaging.group.clone(),
            name: names.channel.clone(),
            description: description.clone(),
        };
        Self {
            delivery: Delivery {
                mode: DeliveryMode::Direct,
                bucket: None,
                region: String::new(),
            },
            distribution: None,
            recording: None,
            page: None,
            version: packaging.version,
            v2_endpoints: mediapackagev2::endpoints(&asks.packaging, &v2_channel),
            v2_channel,
            package_channel: PackageChannelRequest {
                id: names.channel.clone(),
                description,
            },
            endpoint: EndpointRequest {
                id: names.endpoint.clone(),
                channel_id: names.channel.clone(),
                hls: hls_package(&asks.packaging.hls),
            },
            cidrs: asks.allowed_cidrs.clone(),
            inputs,
            secret,
            channel: attached.map(|inputs| asks.ladder(names, &inputs, role, package_target)),
            input_roles,
        }
    }
}

/// Everything a plan depends on besides the snapshot and the desired requests.
#[derive(Clone, Debug)]
pub struct Flags {
    /// The stream key is known (no Secret named, or the Secret read and valid).
    pub key_known: bool,
    pub running: bool,
    /// The cost guard stopped the channel at this generation.
    pub guarded: bool,
    /// A cost guard fires now: the running channel must stop.
    pub fires: Option<Guard>,
    pub update_policy: UpdatePolicy,
    /// S3 refused the player page's public grant this pass: it is not asked again.
    pub page_refused: bool,
    /// AWS refused to update the input because its channel runs.
    pub input_update_refused: bool,
    /// Status saw the distribution Deployed once: a later deployment (an update) keeps the
    /// stream Ready, since the old config serves meanwhile.
    pub distribution_deployed_before: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Create(Ref),
    Update(Ref),
    Delete(Ref),
    /// A resource that runs (the MediaLive channel): billing starts.
    Start(Ref),
    Stop(Ref, StopReason),
}

/// Where the stream stands once there is nothing left to do this pass: the last plan's outcome,
/// and the pass's (which turns `Blocked` into the failure it reports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Converged; `update_pending`: a change waits for the user to stop the channel.
    Steady { update_pending: Option<String> },
    /// AWS is carrying out a change.
    Transition(String),
    /// Not a failure: something the pass needs is not there yet (a resource AWS is still creating,
    /// the stream key being read); look again shortly. Only a pass's outcome: a plan never waits.
    Waiting(String),
    /// Only the user can unblock it.
    Blocked(Blocker),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// A MediaPackage resource with this stream's deterministic id belongs to someone else.
    NameConflict {
        what: &'static str,
        id: String,
        owner: Option<String>,
    },
    /// No input yet and no stream key to create it with.
    StreamKey,
    /// CREATE_FAILED / UPDATE_FAILED.
    ChannelFailed { id: String, state: String },
}

impl Blocker {
    /// The failure the user reads (a stream key that cannot be read is the reading's own error,
    /// which the pass has; without one, the key is still being read).
    pub fn error(self) -> Error {
        match self {
            Blocker::StreamKey => Error::Waiting("the stream key is being read".into()),
            Blocker::NameConflict { what, id, owner } => {
                let owner = owner.map_or_else(
                    || "something other than livestream-operator".to_owned(),
                    |o| format!("LiveStream {o}"),
                );
                Error::Conflict(format!(
                    "{what} {id} already exists and belongs to {owner}; choose another spec.channelId"
                ))
            }
            Blocker::ChannelFailed { id, state } => Error::Invalid(format!(
                "MediaLive channel {id} is {state}: check the channel in the MediaLive console and fix the spec"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// In dependency order.
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    /// The stream key cannot be read but an input exists: the rest converges, the problem is
    /// reported after the pass.
    pub report_stream_key: bool,
}

const MANUAL_UPDATE: &str =
    "the spec changed while the channel runs; stop it (running: false) or set updatePolicy: Restart to apply";

pub fn plan(uid: &str, observed: &Observed, desired: &Desired, flags: &Flags) -> Plan {
    let mut steps = Vec::new();
    let blocked = |steps, blocker, report_stream_key| Plan {
        steps,
        outcome: Outcome::Blocked(blocker),
        report_stream_key,
    };
    let conflict = match desired.version {
        PackagingVersion::V1 => packaging(uid, observed, desired, &mut steps),
        PackagingVersion::V2 => package_v2::packaging_v2(uid, observed, desired, &mut steps),
    };
    if let Some(conflict) = conflict {
        return blocked(steps, conflict, false);
    }
    let mut deploying = None;
    match delivery::distribution(observed, desired) {
        Ok(step) => steps.extend(step),
        Err(what) => deploying = Some(what),
    }
    if steps.is_empty() && !flags.page_refused {
        steps.extend(delivery::page(observed, desired));
    }
    let ingest = match ingest(observed, desired, flags, &mut steps) {
        Ok(ingest) => ingest,
        Err(blocker) => return blocked(steps, blocker, false),
    };
    // The channel only once what it reads from and writes to has converged.
    let (steps, outcome) = if steps.is_empty() {
        channel(observed, desired, flags, ingest.pending)
    } else {
        (steps, Outcome::Transition("applying the spec".into()))
    };
    // The other MediaPackage version's resources, once nothing reads from them any more.
    let retired = matches!(
        outcome,
        Outcome::Steady { update_pending: None } | Outcome::Transition(_)
    ) && steps.is_empty()
        && observed
            .channel
            .as_ref()
            .is_none_or(|c| desired.channel.as_ref().is_some_and(|w| !c.differs(w)));
    let retiring = retired.then(|| package_v2::retire(uid, observed, desired));
    let (steps, outcome) = match retiring.filter(|steps| !steps.is_empty()) {
        Some(steps) => (
            steps,
            Outcome::Transition(format!(
                "removing the MediaPackage resources the stream used before it moved to {}",
                desired.version.as_str()
            )),
        ),
        None if retired => match delivery::retire(observed, desired) {
            Ok(Some(step)) => (
                vec![step],
                Outcome::Transition("removing the CloudFront distribution of delivery CloudFront".into()),
            ),
            // A disabled distribution costs nothing: the resync looks again.
            Ok(None) | Err(_) => (steps, outcome),
        },
        None => (steps, outcome),
    };
    // Viewers reach a new distribution only once CloudFront has deployed it.
    let outcome = match (outcome, deploying) {
        (Outcome::Steady { update_pending: None }, Some(what)) if !flags.distribution_deployed_before => {
            Outcome::Transition(what)
        }
        (outcome, _) => outcome,
    };
    Plan {
        steps,
        outcome,
        report_stream_key: ingest.report_stream_key,
    }
}

/// The MediaPackage channel and its endpoint; a MediaPackage id someone else owns blocks everything.
fn packaging(uid: &str, observed: &Observed, desired: &Desired, steps: &mut Vec<Step>) -> Option<Blocker> {
    let conflict = |what, id: &str, owner: &Option<String>| Blocker::NameConflict {
        what,
        id: id.to_owned(),
        owner: owner.clone(),
    };
    match &observed.package_channel {
        None => steps.push(Step::Create(Kind::PackageChannel.main())),
        Some(c) if c.owner() != Some(uid) => return Some(conflict("MediaPackage channel", &c.id, &c.owner_name)),
        Some(_) => {}
    }
    match &observed.endpoint {
        None if observed.package_channel.is_some() => steps.push(Step::Create(Kind::Endpoint.main())),
        None => {}
        Some(e) if e.owner() != Some(uid) => return Some(conflict("MediaPackage endpoint", &e.id, &e.owner_name)),
        Some(e) if e.differs(&desired.endpoint) => steps.push(Step::Update(Kind::Endpoint.main())),
        Some(_) => {}
    }
    None
}

/// What the ingest side leaves for the channel step.
struct Ingest {
    /// The input's new stream name waits for the channel to stop.
    pending: Option<String>,
    report_stream_key: bool,
}

/// The security group, then the input once the group exists; no key, no input: blocked.
fn ingest(observed: &Observed, desired: &Desired, flags: &Flags, steps: &mut Vec<Step>) -> Result<Ingest, Blocker> {
    let mut ingest = Ingest {
        pending: None,
        report_stream_key: false,
    };
    match &observed.security_group {
        None => steps.push(Step::Create(Kind::SecurityGroup.main())),
        Some(g) if g.differs(&desired.cidrs) => steps.push(Step::Update(Kind::SecurityGroup.main())),
        Some(_) => {}
    }
    if observed.security_group.is_none() {
        return Ok(ingest);
    }
    // The SRT passphrase's secret before the input that decrypts with it; a rotated passphrase
    // is a new version of it (the input keeps its ARN).
    match (&desired.secret, &observed.secret) {
        (Some(_), None) => steps.push(Step::Create(Kind::Secret.main())),
        (Some(want), Some(secret)) if secret.differs(want) => steps.push(Step::Update(Kind::Secret.main())),
        _ => {}
    }
    if desired.secret.is_some() && observed.secret.is_none() {
        return Ok(ingest);
    }
    let channel_busy = observed.channel.as_ref().is_some_and(|c| {
        matches!(
            c.state,
            ChannelState::Running | ChannelState::Starting | ChannelState::Stopping | ChannelState::Recovering
        )
    });
    for &role in &desired.input_roles {
        let (current, want) = (observed.inputs.get(&role), desired.inputs.get(&role));
        let step = input_step(InputFacts {
            exists: current.is_some(),
            key_known: flags.key_known,
            differs: matches!((current, want), (Some(input), Some(want)) if input.differs(want)),
        });
        match step {
            InputStep::Create => steps.push(Step::Create(Kind::Input.role(role))),
            InputStep::Update if channel_busy || flags.input_update_refused => {
                ingest.pending = Some(format!(
                    "input {} needs stream name {}, which can change only while the channel is stopped",
                    current.map_or("", |i| i.id.as_str()),
                    want.map(|w| w.target.describe()).unwrap_or_default()
                ));
            }
            InputStep::Update => steps.push(Step::Update(Kind::Input.role(role))),
            InputStep::Keep => {}
            InputStep::KeepAndReport => ingest.report_stream_key = true,
            InputStep::Blocked => return Err(Blocker::StreamKey),
        }
    }
    // An input the spec no longer asks for goes once the channel no longer reads from it.
    let unwanted = (observed.inputs.iter()).filter(|(role, _)| !desired.input_roles.contains(role));
    for (role, input) in unwanted {
        if !observed.channel.as_ref().is_some_and(|c| c.reads_from(&input.id)) {
            steps.push(Step::Delete(Kind::Input.role(*role)));
        }
    }
    Ok(ingest)
}

/// The channel's step once everything upstream has converged.
fn channel(
    observed: &Observed,
    desired: &Desired,
    flags: &Flags,
    input_pending: Option<String>,
) -> (Vec<Step>, Outcome) {
    let creating = || {
        (
            vec![],
            Outcome::Transition("the MediaLive input is being created".into()),
        )
    };
    let Some(want) = &desired.channel else {
        return creating();
    };
    let inputs = desired.input_roles.iter().filter_map(|role| observed.inputs.get(role));
    if inputs.clone().any(|i| i.state == InputState::Creating) {
        return creating();
    }
    let step = channel_step(&ChannelFacts {
        state: observed.channel.as_ref().map(|c| c.state.clone()),
        differs: observed.channel.as_ref().is_some_and(|c| c.differs(want)),
        pending_elsewhere: input_pending.is_some(),
        running: flags.running,
        guarded: flags.guarded,
        fires: flags.fires,
        update_policy: flags.update_policy,
    });
    let transition = |step: Step, what: &str| (vec![step], Outcome::Transition(what.into()));
    match step {
        ChannelStep::Create => transition(Step::Create(Kind::Channel.main()), "creating"),
        ChannelStep::Update => transition(Step::Update(Kind::Channel.main()), "updating"),
        ChannelStep::Start => transition(Step::Start(Kind::Channel.main()), "starting"),
        ChannelStep::Stop(why) => transition(Step::Stop(Kind::Channel.main(), why), "stopping"),
        ChannelStep::Steady { update_pending } => {
            let update_pending = update_pending.then(|| input_pending.unwrap_or(MANUAL_UPDATE.into()));
            (vec![], Outcome::Steady { update_pending })
        }
        ChannelStep::Wait { what, .. } => (vec![], Outcome::Transition(what)),
        ChannelStep::Failed(state) => {
            let id = observed.channel.as_ref().map(|c| c.id.clone()).unwrap_or_default();
            (vec![], Outcome::Blocked(Blocker::ChannelFailed { id, state }))
        }
    }
}

#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod redundancy_tests;
#[cfg(test)]
mod srt_tests;
#[cfg(test)]
mod tests;
