//! Execute: carry out a plan's steps, each an AWS call and an event, folding every answer into the
//! snapshot so the next plan sees it. `Run::converge` loops observe → plan → execute until a plan
//! has nothing left to do.

use kube::runtime::events::EventType;
use tracing::info;

use super::{
    Run,
    intent::Source,
    plan::{self, Blocker, Desired, Flags, Outcome, Step, StopReason},
    publish,
};
use crate::aws::each_kind;
use crate::observe::Observed;
use crate::{
    aws::Kind,
    desired::ingest::IngestTarget,
    error::{Error, Result},
};

/// The outcome of the last plan as the pass's result: a blocked plan is the failure it reports. A
/// stream key that cannot be read while an input exists is reported (`deferred`) after a pass that
/// went on.
pub(super) fn conclude(
    plan: plan::Plan,
    target: Result<IngestTarget>,
    deferred: &mut Option<Error>,
) -> Result<Outcome> {
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

/// An AWS refusal of the change, as one that left the channel running.
fn kept_running(error: Error) -> Error {
    match error {
        e @ Error::Aws { .. } => Error::ChangeRefused(Box::new(e)),
        other => other,
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
            .with_recording(want.recording.clone(), &want.asks)
            .with_overrides(&want.asks)
            .with_page(want.website.as_ref(), observed);
            let flags = Flags {
                key_known: self.want.target.is_ok(),
                running: self.intent.running,
                guarded: self.intent.guard_stop.is_some(),
                fires: self.intent.fires,
                update_policy: self.want.update_policy,
                page_refused,
                input_update_refused: refused,
                distribution_deployed_before: (self.status.cloud_front.as_ref())
                    .is_some_and(|c| c.status == "Deployed"),
            };
            let plan = plan::plan(&self.uid, observed, &desired, &flags);
            if plan.steps.is_empty() {
                self.status.website_url = desired.page.and_then(|p| p.url);
                return Ok(plan);
            }
            for step in plan.steps {
                match Box::pin(self.execute(&step, &desired, observed)).await {
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

    async fn execute(&mut self, step: &Step, desired: &Desired, observed: &mut Observed) -> Result<()> {
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
            Step::Start(what) => {
                let role = what.role;
                let id = each_kind!(what.kind, |K| self.switch_one::<K>(role, true, observed).await)?;
                let (reason, note) = match (self.intent.source, self.intent.next_stop) {
                    (Source::Schedule, until) => (
                        "ScheduledStart",
                        format!(
                            "Starting MediaLive channel {id} for the scheduled window{} (billing starts)",
                            until.map(|t| format!(" until {t}")).unwrap_or_default()
                        ),
                    ),
                    _ => (
                        "StartingChannel",
                        format!("Starting MediaLive channel {id} (billing starts)"),
                    ),
                };
                self.event(reason, note).await;
            }
            Step::Stop(what, why) => {
                let role = what.role;
                // A change AWS would refuse does not stop the event: the channel runs on as it is.
                if *why == StopReason::Restart {
                    let checked = each_kind!(what.kind, |K| self.validate_one::<K>(role, desired, observed).await);
                    checked.map_err(kept_running)?;
                }
                let id = each_kind!(what.kind, |K| self.switch_one::<K>(role, false, observed).await)?;
                self.stopped(&id, *why).await;
            }
        }
        Ok(())
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
