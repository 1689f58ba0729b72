//! Execute: carry out a plan's steps, each an AWS call and an event, folding every answer into the
//! snapshot so the next plan sees it. `Run::converge` loops observe → plan → execute until a plan
//! has nothing left to do.

use aws_sdk_medialive::types::ChannelState;
use kube::runtime::events::EventType;
use tracing::info;

use super::{
    Run,
    intent::Source,
    plan::{self, Blocker, Desired, Flags, Outcome, Step, StopReason},
    publish,
};
use crate::observe::{Observed, cache::KindCache};
use crate::{
    aws::{self, Kind, Managed, Owner, Ref, Role},
    desired::ingest::RtmpTarget,
    error::{Error, Result},
};

/// A step's dependency, which the plan only asks for once it exists.
fn want<T>(dependency: Option<&T>) -> Result<&T> {
    dependency.ok_or_else(|| Error::Waiting("a dependency is not there yet".into()))
}

/// MediaLive refuses a channel whose role the caller may not pass with a 422 like any other
/// validation failure; the condition names the role and what to grant, whatever the cause.
fn with_role_hint(error: Error, settings: &crate::desired::medialive::ChannelSettings) -> Error {
    match error {
        Error::Aws {
            operation,
            code,
            message,
            source,
        } if code == "UnprocessableEntityException" => Error::Aws {
            operation,
            code,
            source,
            message: format!(
                "{message} (the channel's role is {role}: if the refusal is about iam:PassRole, the operator's IAM policy must allow iam:PassRole on {role} with iam:PassedToService medialive.amazonaws.com, as deploy/iam-policy.json does for spec.roleArn / --medialive-role-arn)",
                role = settings.role_arn
            ),
        },
        other => other,
    }
}

/// The outcome of the last plan as the pass's result: a blocked plan is the failure it reports. A
/// stream key that cannot be read while an input exists is reported (`deferred`) after a pass that
/// went on.
pub(super) fn conclude(plan: plan::Plan, target: Result<RtmpTarget>, deferred: &mut Option<Error>) -> Result<Outcome> {
    let key_problem = target.err();
    if plan.report_stream_key {
        if let Some(problem) = key_problem {
            *deferred = Some(problem);
        }
        return progress(plan.outcome, None);
    }
    progress(plan.outcome, key_problem)
}

/// A plan's outcome as the pass's: `Blocked` becomes its failure, the stream key's being why the
/// key cannot be read.
fn progress(outcome: Outcome, key_problem: Option<Error>) -> Result<Outcome> {
    match (outcome, key_problem) {
        (Outcome::Blocked(Blocker::StreamKey), Some(problem)) => Err(problem),
        (Outcome::Blocked(blocker), _) => Err(blocker.error()),
        (outcome, _) => Ok(outcome),
    }
}

/// More rounds than the longest chain of creates (MediaPackage channel and security group →
/// endpoint and input → channel) can need; a plan that keeps asking is a bug, not a loop.
const MAX_ROUNDS: usize = 6;

impl Run<'_> {
    /// Plans and executes until nothing is left to do this pass; `observed` ends as AWS was left.
    pub(super) async fn rounds(&mut self, observed: &mut Observed) -> Result<plan::Plan> {
        let mut refused = false;
        let mut page_refused = false;
        for _ in 0..MAX_ROUNDS {
            let want = &self.want;
            let desired = Desired::of(
                &want.asks,
                &want.names,
                want.description.clone(),
                &want.role,
                want.target.as_ref().ok(),
                observed,
                &want.packaging,
            )
            .with_delivery(want.delivery.clone(), self.distribution_request(observed))
            .with_recording(want.recording.clone(), &want.asks);
            let page = self.page(observed);
            let flags = Flags {
                key_known: self.want.target.is_ok(),
                running: self.intent.running,
                guarded: self.intent.guard_stop.is_some(),
                fires: self.intent.fires,
                update_policy: self.want.update_policy,
                website_stale: !page_refused && page.as_ref().is_some_and(|p| self.page_stale(p)),
                input_update_refused: refused,
                distribution_deployed_before: (self.status.cloud_front.as_ref())
                    .is_some_and(|c| c.status == "Deployed"),
            };
            let plan = plan::plan(&self.uid, observed, &desired, &flags);
            if plan.steps.is_empty() {
                self.record_page(page.as_ref());
                return Ok(plan);
            }
            for step in plan.steps {
                match Box::pin(self.execute(&step, &desired, observed, page.as_ref())).await {
                    Err(e)
                        if matches!(step, Step::Update(r) if r.kind == Kind::Input)
                            && e.code() == Some("ConflictException") =>
                    {
                        refused = true
                    }
                    // The page stays private; the stream goes on and the problem is reported.
                    Err(e @ Error::WebsiteNotPublic(_)) => {
                        page_refused = true;
                        self.deferred.get_or_insert(e);
                    }
                    other => other?,
                }
            }
        }
        Err(Error::Waiting("the plan did not settle this pass".into()))
    }

    async fn execute(
        &mut self,
        step: &Step,
        desired: &Desired,
        observed: &mut Observed,
        page: Option<&super::website::Page>,
    ) -> Result<()> {
        let cache = &self.ctx.cache;
        match step {
            // One endpoint per manifest kind, by role.
            Step::Create(what) | Step::Update(what) | Step::Delete(what) if what.kind == Kind::OriginEndpoint => {
                return self.endpoint_v2(step, desired, observed).await;
            }
            Step::Create(what) => return self.create_kind(*what, desired, observed).await,
            Step::Update(what) => return self.update_kind(*what, desired, observed).await,
            Step::Delete(what) => return self.delete_kind(*what, observed).await,
            Step::Retire(kind) => return self.retire(*kind, observed).await,
            Step::PublishWebsite => {
                let page = page.ok_or_else(|| Error::Waiting("no player page to publish".into()))?;
                self.publish_page(page).await?;
            }
            Step::StartChannel => {
                let channel = observed
                    .channel
                    .as_mut()
                    .ok_or_else(|| Error::Waiting("no channel".into()))?;
                let start = aws::channel::start(&self.ctx.aws, &channel.id);
                cache.channels.change(&self.uid, Role::Main, start).await?;
                channel.state = ChannelState::Starting;
                let (reason, note) = match (self.intent.source, self.intent.next_stop) {
                    (Source::Schedule, until) => (
                        "ScheduledStart",
                        format!(
                            "Starting MediaLive channel {} for the scheduled window{} (billing starts)",
                            channel.id,
                            until.map(|t| format!(" until {t}")).unwrap_or_default()
                        ),
                    ),
                    _ => (
                        "StartingChannel",
                        format!("Starting MediaLive channel {} (billing starts)", channel.id),
                    ),
                };
                self.event(reason, note).await;
            }
            Step::StopChannel(why) => {
                let channel = observed
                    .channel
                    .as_mut()
                    .ok_or_else(|| Error::Waiting("no channel".into()))?;
                let stop = aws::channel::stop(&self.ctx.aws, &channel.id);
                cache.channels.change(&self.uid, Role::Main, stop).await?;
                channel.state = ChannelState::Stopping;
                let id = channel.id.clone();
                self.stopped(&id, *why).await;
            }
        }
        Ok(())
    }

    /// Creates the stream's resource `what` and puts AWS's answer into the snapshot.
    async fn create_kind(&mut self, what: Ref, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let cache = &self.ctx.cache;
        let role = what.role;
        match what.kind {
            Kind::PackageChannel => {
                let made = self
                    .create(&cache.package_channels, &desired.package_channel, role)
                    .await?;
                self.event(
                    "CreatedPackageChannel",
                    format!("Created MediaPackage channel {}", made.id),
                )
                .await;
                observed.package_channel = Some(made);
            }
            Kind::Endpoint => {
                let made = match self.create(&cache.endpoints, &desired.endpoint, role).await {
                    // Eventual consistency: the channel created a moment ago may not be visible yet.
                    Err(e) if e.is_not_found() => {
                        let channel = &desired.endpoint.channel_id;
                        return Err(Error::Waiting(format!(
                            "MediaPackage channel {channel} is not visible yet"
                        )));
                    }
                    other => other?,
                };
                self.event(
                    "CreatedEndpoint",
                    format!("Created MediaPackage HLS endpoint {}", made.id),
                )
                .await;
                observed.endpoint = Some(made);
            }
            Kind::SecurityGroup => {
                let made = self.create(&cache.security_groups, &desired.cidrs, role).await?;
                let note = format!(
                    "Created input security group {} for {}",
                    made.id,
                    desired.cidrs.join(", ")
                );
                self.event("CreatedSecurityGroup", note).await;
                observed.security_group = Some(made);
            }
            Kind::Input => {
                let request = want(desired.inputs.get(&role))?;
                let made = self.create(&cache.inputs, request, role).await?;
                // The primary's note reads as before roles: users and their alerts match on it.
                let which = match role {
                    Role::Primary => String::new(),
                    other => format!("{} ", other.as_str()),
                };
                let note = format!("Created {which}RTMP input {} ({})", made.id, request.target.describe());
                self.event("CreatedInput", note).await;
                observed.inputs.insert(role, made);
            }
            Kind::Channel => {
                let settings = want(desired.channel.as_ref())?;
                self.recording_bucket(desired).await?;
                let made = self
                    .create(&cache.channels, settings, role)
                    .await
                    .map_err(|e| with_role_hint(e, settings))?;
                let renditions = self.want.asks.encoding.renditions.len();
                let note = format!("Created MediaLive channel {} ({renditions} renditions)", made.id);
                self.event("CreatedChannel", note).await;
                observed.channel = Some(made);
            }
            Kind::ChannelV2 => return self.create_channel_v2(desired, observed).await,
            Kind::Distribution => return self.create_distribution(desired, observed).await,
            // Origin endpoints go by `endpoint_v2`.
            Kind::OriginEndpoint => {}
        }
        Ok(())
    }

    /// Brings the stream's resource `what` to the spec and puts AWS's answer into the snapshot.
    async fn update_kind(&mut self, what: Ref, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let cache = &self.ctx.cache;
        match what.kind {
            Kind::Endpoint => {
                let current = want(observed.endpoint.as_ref())?;
                let made = self.update(&cache.endpoints, current, &desired.endpoint).await?;
                let note = format!("Updated the HLS settings of MediaPackage endpoint {}", made.id);
                self.event("UpdatedEndpoint", note).await;
                observed.endpoint = Some(made);
            }
            Kind::SecurityGroup => {
                let current = want(observed.security_group.as_ref())?;
                let made = self.update(&cache.security_groups, current, &desired.cidrs).await?;
                let note = format!("Set input security group {} to {}", made.id, desired.cidrs.join(", "));
                self.event("UpdatedSecurityGroup", note).await;
                observed.security_group = Some(made);
            }
            Kind::Input => {
                let current = want(observed.inputs.get(&what.role))?;
                let request = want(desired.inputs.get(&what.role))?;
                let made = self.update(&cache.inputs, current, request).await?;
                let note = format!("Updated input {} to stream name {}", made.id, request.target.describe());
                self.event("UpdatedInput", note).await;
                observed.inputs.insert(what.role, made);
            }
            Kind::Channel => {
                let (current, settings) = (want(observed.channel.as_ref())?, want(desired.channel.as_ref())?);
                self.recording_bucket(desired).await?;
                let made = self
                    .update(&cache.channels, current, settings)
                    .await
                    .map_err(|e| with_role_hint(e, settings))?;
                self.event(
                    "UpdatedChannel",
                    format!("Updated MediaLive channel {} to the spec", made.id),
                )
                .await;
                observed.channel = Some(made);
            }
            Kind::Distribution => return self.update_distribution(desired, observed).await,
            // Nothing of a MediaPackage channel is managed after creation: the plan never asks;
            // v2 endpoints go by `endpoint_v2`.
            Kind::PackageChannel | Kind::ChannelV2 | Kind::OriginEndpoint => {}
        }
        Ok(())
    }

    /// Deletes the stream's resource `what` (one the spec no longer asks for) and takes it out of
    /// the snapshot.
    async fn delete_kind(&mut self, what: Ref, observed: &mut Observed) -> Result<()> {
        // The plan deletes only inputs by role: retired versions go by `Step::Retire`.
        if what.kind != Kind::Input {
            return Ok(());
        }
        let Some(input) = observed.inputs.remove(&what.role) else {
            return Ok(());
        };
        let delete = aws::Input::delete(&self.ctx.aws, &input.id);
        Box::pin(self.ctx.cache.inputs.change(&self.uid, what.role, delete)).await?;
        let role = what.role.as_str();
        let note = format!("Deleting {role} input {}: the spec no longer asks for it", input.id);
        self.event("DeletingInput", note).await;
        Ok(())
    }

    async fn create<K: Managed>(&self, cache: &KindCache<K>, desired: &K::Desired, role: Role) -> Result<K> {
        let owner = Owner {
            uid: &self.uid,
            tags: &self.tags,
            role,
        };
        let made = Box::pin(cache.change(&self.uid, role, K::create(&self.ctx.aws, desired, &owner))).await?;
        cache.seen(&self.uid, &made);
        Ok(made)
    }

    async fn update<K: Managed>(&self, cache: &KindCache<K>, current: &K, desired: &K::Desired) -> Result<K> {
        let made =
            Box::pin(cache.change(&self.uid, current.role(), K::update(&self.ctx.aws, current, desired))).await?;
        cache.seen(&self.uid, &made);
        Ok(made)
    }

    /// The event for a stop: asked for, the cost guard, or to apply an update.
    async fn stopped(&mut self, id: &str, why: StopReason) {
        let (event, kind, note) = match why {
            StopReason::NotRunning if self.intent.guard_stop.is_some() => (
                "StoppingChannel",
                EventType::Normal,
                format!("Stopping MediaLive channel {id}: a cost guard stopped it earlier"),
            ),
            StopReason::NotRunning if self.intent.source == Source::Schedule => (
                "ScheduledStop",
                EventType::Normal,
                format!("Stopping MediaLive channel {id}: the scheduled window is over"),
            ),
            StopReason::NotRunning => (
                "StoppingChannel",
                EventType::Normal,
                format!("Stopping MediaLive channel {id} (spec.running is false)"),
            ),
            StopReason::Guard(guard) => {
                self.fired = Some(guard);
                (
                    guard.reason(),
                    EventType::Warning,
                    format!("Stopping MediaLive channel {id}: {}", guard.why()),
                )
            }
            StopReason::Restart => (
                "RestartingChannel",
                EventType::Normal,
                format!("Stopping MediaLive channel {id} to apply a spec change (updatePolicy: Restart)"),
            ),
        };
        info!(event, "{note}");
        publish(self.ctx, self.stream, kind, event, note).await;
    }
}
