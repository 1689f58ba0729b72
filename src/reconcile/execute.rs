//! Execute: carry out a plan's steps, each an AWS call and an event, folding every answer into the
//! snapshot so the next plan sees it. `Run::converge` loops observe → plan → execute until a plan
//! has nothing left to do.

use aws_sdk_medialive::types::ChannelState;
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};
use kube::{Resource, ResourceExt, runtime::events::EventType};
use tracing::info;

use super::held::each_kind;
use super::{
    Progress, Run,
    intent::{Guard, Source},
    plan::{self, Blocker, Desired, Flags, Outcome, Step, StopReason},
    publish,
};
use crate::observe::Observed;
use crate::{
    api::GuardStop,
    aws::{self, Kind, Role},
    desired::{Names, ingest::RtmpTarget},
    error::{Error, Result},
};

/// More rounds than the longest chain of creates (MediaPackage channel and security group →
/// endpoint and input → channel) can need; a plan that keeps asking is a bug, not a loop.
const MAX_ROUNDS: usize = 6;

impl Run<'_> {
    /// Plans and executes until nothing is left to do this pass; `observed` ends as AWS was left.
    pub(super) async fn rounds(
        &mut self,
        observed: &mut Observed,
        names: &Names,
        role: &str,
        target: &Result<RtmpTarget>,
    ) -> Result<plan::Plan> {
        let description = format!(
            "LiveStream {}/{}",
            self.stream.namespace().unwrap_or_default(),
            self.stream.name_any()
        );
        let mut refused = false;
        let mut page_refused = false;
        for _ in 0..MAX_ROUNDS {
            let spec = &self.stream.spec;
            let desired = Desired::of(
                spec,
                names,
                description.clone(),
                role,
                target.as_ref().ok(),
                observed,
                &self.packaging,
            )
            .with_delivery(self.delivery.clone(), self.distribution_request(observed))
            .with_recording(self.recording(), spec);
            let page = self.page(observed);
            let flags = Flags {
                key_known: target.is_ok(),
                running: self.intent.running,
                guarded: self.intent.guard_stop.is_some(),
                fires: self.intent.fires.map(|guard| match guard {
                    Guard::MaxRunDuration => StopReason::MaxRunDuration,
                    Guard::InputLoss => StopReason::InputLoss,
                }),
                update_policy: spec.update_policy,
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

    /// The outcome of the last plan as the pass's result.
    pub(super) fn conclude(&mut self, plan: plan::Plan, target: Result<RtmpTarget>) -> Result<Progress> {
        let key_problem = target.err();
        if plan.report_stream_key {
            if let Some(problem) = key_problem {
                self.deferred = Some(problem);
            }
            return self.progress(plan.outcome, None);
        }
        self.progress(plan.outcome, key_problem)
    }

    fn progress(&mut self, outcome: Outcome, key_problem: Option<Error>) -> Result<Progress> {
        match outcome {
            Outcome::Steady { update_pending } => {
                self.update_pending = update_pending;
                Ok(Progress::Steady)
            }
            Outcome::Transition(what) => Ok(Progress::Transition(what)),
            Outcome::Blocked(Blocker::StreamKey) => {
                Err(key_problem.unwrap_or_else(|| Error::Waiting("the stream key is being read".into())))
            }
            Outcome::Blocked(Blocker::NameConflict { what, id, owner }) => {
                let owner = owner.map_or_else(
                    || "something other than livestream-operator".to_owned(),
                    |o| format!("LiveStream {o}"),
                );
                Err(Error::Conflict(format!(
                    "{what} {id} already exists and belongs to {owner}; choose another spec.channelId"
                )))
            }
            Outcome::Blocked(Blocker::ChannelFailed { id, state }) => Err(Error::Invalid(format!(
                "MediaLive channel {id} is {state}: check the channel in the MediaLive console and fix the spec"
            ))),
        }
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
            Step::Create(what) => {
                let role = what.role;
                return each_kind!(what.kind, |K| self.create_one::<K>(role, desired, observed).await);
            }
            Step::Update(what) => {
                let role = what.role;
                return each_kind!(what.kind, |K| self.update_one::<K>(role, desired, observed).await);
            }
            Step::Delete(what) => {
                let role = what.role;
                return each_kind!(what.kind, |K| self.delete_one::<K>(role, observed).await);
            }
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

    /// The event for a stop: asked for, the cost guard, or to apply an update.
    async fn stopped(&mut self, id: &str, why: StopReason) {
        let guard = |reason: &str| {
            Some(GuardStop {
                reason: reason.into(),
                generation: self.stream.meta().generation.unwrap_or_default(),
                at: Time(Timestamp::now()),
            })
        };
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
            StopReason::MaxRunDuration => {
                self.status.guard_stop = guard(Guard::MaxRunDuration.reason());
                (
                    Guard::MaxRunDuration.reason(),
                    EventType::Warning,
                    format!("Stopping MediaLive channel {id}: it ran longer than spec.maxRunDuration"),
                )
            }
            StopReason::InputLoss => {
                self.status.guard_stop = guard(Guard::InputLoss.reason());
                (
                    Guard::InputLoss.reason(),
                    EventType::Warning,
                    format!("Stopping MediaLive channel {id}: no input for spec.stopAfterInputLoss"),
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
