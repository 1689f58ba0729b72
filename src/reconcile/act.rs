//! One step on one resource, for any kind: the AWS call (through the read cache), the event, and
//! AWS's answer folded into the snapshot so the next plan sees it. The executor and teardown both
//! act through here; nothing here names a kind.

use futures::future::BoxFuture;

use super::{
    Run, action,
    held::{Held, Why},
    plan::Desired,
};
use crate::{
    api::LiveStream,
    aws::{Owner, Role, Teardown},
    context::Context,
    error::{Error, Result},
    observe::Observed,
};

/// A step's dependency, which the plan only asks for once it exists.
fn want<T>(dependency: Option<&T>) -> Result<&T> {
    dependency.ok_or_else(|| Error::Waiting("a dependency is not there yet".into()))
}

/// Where one step down left a resource.
#[derive(Debug, PartialEq, Eq)]
pub enum Down {
    /// Gone (or never there).
    Gone,
    /// Deleted; AWS removes it over time (the note says what was done).
    Deleting(String),
    /// Stopped ahead of its deletion.
    Stopping(String),
    /// Moving: nothing to do but look again.
    Wait(String),
}

impl Run<'_> {
    /// Creates the stream's resource of kind `K` and role `role`, as the spec asks.
    pub(super) async fn create_one<K: Held>(
        &self,
        role: Role,
        desired: &Desired,
        observed: &mut Observed,
    ) -> Result<()> {
        let want = want(K::wanted(desired, role))?;
        K::prepare(self, desired, want).await?;
        let owner = Owner {
            uid: &self.uid,
            tags: &self.tags,
            role,
        };
        let cache = &self.ctx.cache;
        let create = K::creating(cache, &self.uid, role, Box::pin(K::create(&self.ctx.aws, want, &owner)));
        let made = match create.await {
            Ok(made) => made,
            Err(e) => return Err(K::refused(self, want, e).await),
        };
        K::answered(cache, &self.uid, &made);
        let (reason, note) = made.created(want);
        self.event(reason, note).await;
        K::fold(observed, role, Some(made));
        Ok(())
    }

    /// Brings the stream's resource of kind `K` and role `role` to the spec.
    pub(super) async fn update_one<K: Held>(
        &self,
        role: Role,
        desired: &Desired,
        observed: &mut Observed,
    ) -> Result<()> {
        let (current, want) = (want(K::observed(observed, role))?, want(K::wanted(desired, role))?);
        K::prepare(self, desired, want).await?;
        let cache = &self.ctx.cache;
        let update = K::through(
            cache,
            &self.uid,
            role,
            Box::pin(K::update(&self.ctx.aws, current, want)),
        );
        let made = update.await?;
        K::answered(cache, &self.uid, &made);
        let (reason, note) = made.updated(want);
        self.event(reason, note).await;
        K::fold(observed, role, Some(made));
        Ok(())
    }

    /// AWS would take the spec as an update of the stream's resource of kind `K` (see
    /// `Managed::validate_update`).
    pub(super) async fn validate_one<K: Held>(&self, role: Role, desired: &Desired, observed: &Observed) -> Result<()> {
        let (current, want) = (want(K::observed(observed, role))?, want(K::wanted(desired, role))?);
        K::validate_update(&self.ctx.aws, current, want).await
    }

    /// Starts (`start`) or stops the stream's resource of kind `K` and role `role`; its id, for
    /// the event (whose words say why, which the caller knows).
    pub(super) async fn switch_one<K: Held>(&self, role: Role, start: bool, observed: &mut Observed) -> Result<String> {
        let (aws, current) = (&self.ctx.aws, want(K::observed(observed, role))?);
        let call: BoxFuture<'_, Result<K>> = match start {
            true => Box::pin(K::start(aws, current)),
            false => Box::pin(K::stop(aws, current)),
        };
        let switched = K::through(&self.ctx.cache, &self.uid, role, call).await?;
        let id = switched.id().to_owned();
        K::fold(observed, role, Some(switched));
        Ok(id)
    }

    /// One step down for a resource the spec no longer asks for; waiting is the pass's to report.
    pub(super) async fn delete_one<K: Held>(&self, role: Role, observed: &mut Observed) -> Result<()> {
        match take_down::<K>(self.ctx, self.stream, &self.uid, role, Why::NotAsked, observed).await? {
            Down::Wait(what) => Err(Error::Waiting(what)),
            Down::Gone | Down::Deleting(_) | Down::Stopping(_) => Ok(()),
        }
    }
}

/// One step down for the stream's resource of kind `K` and role `role`: stop it, delete it, or
/// wait, as the kind says from its state; the answer is folded into the snapshot.
pub async fn take_down<K: Held>(
    ctx: &Context,
    stream: &LiveStream,
    uid: &str,
    role: Role,
    why: Why,
    observed: &mut Observed,
) -> Result<Down> {
    // Ids of MediaPackage are deterministic: only what is tagged as this stream's is touched.
    let Some(current) = K::observed(observed, role).filter(|c| c.owner() == Some(uid)).cloned() else {
        return Ok(Down::Gone);
    };
    let aws = &ctx.aws;
    match current.teardown() {
        Teardown::Wait(what) => Ok(Down::Wait(format!("{what} ({})", current.id()))),
        Teardown::Stop => {
            let stopped = K::through(&ctx.cache, uid, role, Box::pin(K::stop(aws, &current))).await?;
            let (reason, note) = current.stopping();
            action(ctx, stream, reason, note.clone()).await;
            K::fold(observed, role, Some(stopped));
            Ok(Down::Stopping(note))
        }
        Teardown::Delete { settles } => {
            K::through(&ctx.cache, uid, role, Box::pin(K::delete(aws, &current))).await?;
            let (reason, note) = current.deleted(why);
            action(ctx, stream, reason, note.clone()).await;
            K::fold(observed, role, None);
            K::gone(ctx, stream, &current).await?;
            Ok(if settles { Down::Deleting(note) } else { Down::Gone })
        }
    }
}

/// Every one of the stream's resources of kind `K`, a step down each; what is left to wait for,
/// if anything.
pub async fn take_down_all<K: Held>(
    ctx: &Context,
    stream: &LiveStream,
    uid: &str,
    observed: &mut Observed,
) -> Result<Option<String>> {
    for &role in K::ROLES {
        match take_down::<K>(ctx, stream, uid, role, Why::StreamDeleted, observed).await? {
            Down::Gone => {}
            Down::Deleting(note) | Down::Stopping(note) | Down::Wait(note) => return Ok(Some(note)),
        }
    }
    Ok(None)
}
