//! Reading AWS cheaply for a whole cache of streams. Each kind of resource is read through one
//! `KindCache`: a List of the whole account shared by every stream (one page holds 1,000), the latest
//! answer about each stream's own resource (a create, an update, a describe), and when each stream
//! last changed it. A stream's resource is read, in this order, from:
//!
//! 1. the latest answer about it, if that is younger than the freshness bound and AWS is not moving
//!    the resource (a stream waiting for its channel does not re-read its input every 5 s);
//! 2. a Describe, when the kind's List lacks what the plan needs (MediaLive channels) or the stream
//!    changed the resource within the bound (it may be in flux);
//! 3. a shared listing that began after the freshness bound and after this stream's last change.
//!
//! The rule for (3) is what keeps adoption safe: a create whose answer was lost happened before the
//! listing began, so the listing shows it. A cached id missing from a listing is described once
//! more before it counts as gone (Lists may lag).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::{
    aws::{Listed, Managed, Role},
    error::Result,
};

/// How to recognise one stream's resource.
#[derive(Clone, Copy, Debug)]
pub struct Lookup<'a> {
    pub uid: &'a str,
    /// Which of the stream's resources of the kind (found by its role tag).
    pub role: Role,
    /// A deterministic id (MediaPackage): the resource is found by it, whoever owns it.
    pub name: Option<&'a str>,
    /// The id recorded in status, if any.
    pub cached: Option<&'a str>,
}

impl Lookup<'_> {
    fn matches<K: Managed>(&self, item: &K) -> bool {
        match self.name {
            Some(name) => item.id() == name,
            None => item.owner() == Some(self.uid) && item.role() == self.role,
        }
    }
}

/// How old what the operator read may be and still decide a pass.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    /// A listing or an answer younger than this serves as is.
    pub listing: Duration,
    /// A full answer (Describe/Get) of a kind whose listing is not complete serves this long while
    /// listings show the resource unchanged.
    pub full_read: Duration,
}

impl Freshness {
    /// The instant a listing must have begun after to serve now.
    pub fn listed_after(&self, started: Instant) -> Instant {
        Instant::now()
            .checked_sub(self.listing)
            .map_or(started, |t| t.max(started))
    }
}

/// One account-wide listing, shared by every stream it can serve.
pub struct SharedListing<K>(tokio::sync::Mutex<Option<(Instant, Arc<Vec<K>>)>>);

impl<K> Default for SharedListing<K> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<K> SharedListing<K> {
    /// The shared listing if it began after `after`; otherwise a new one (streams that wait on
    /// the lock meanwhile get that one).
    pub async fn after<L, LF>(&self, after: Instant, list: L) -> Result<Arc<Vec<K>>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<Vec<K>>>,
    {
        let mut slot = self.0.lock().await;
        if let Some((began, items)) = slot.as_ref()
            && *began > after
        {
            return Ok(items.clone());
        }
        let began = Instant::now();
        let items = Arc::new(list().await?);
        *slot = Some((began, items.clone()));
        Ok(items)
    }
}

#[derive(Clone)]
struct Known<K> {
    /// When this process last sent a mutation of it (create, update, delete, start, stop).
    changed: Option<Instant>,
    /// The latest answer about it, and when it came.
    seen: Option<(Instant, K)>,
}

pub struct KindCache<K> {
    started: Instant,
    listing: SharedListing<K>,
    /// By stream uid and role.
    known: Mutex<HashMap<(String, Role), Known<K>>>,
}

impl<K> Default for KindCache<K> {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            listing: Default::default(),
            known: Default::default(),
        }
    }
}

impl<K: Managed> KindCache<K> {
    /// Sends a mutation of the stream's resource. Only listings begun after its answer serve the
    /// stream afterwards: one begun while the call was on its way may have been answered before
    /// AWS carried it out. The mark before the call covers an answer that never comes.
    pub async fn change<T>(&self, uid: &str, role: Role, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.changing(uid, role);
        let answer = call.await;
        self.changing(uid, role);
        answer
    }

    fn changing(&self, uid: &str, role: Role) {
        let mut known = self.known.lock().unwrap();
        let entry = known.entry((uid.to_owned(), role)).or_insert(Known {
            changed: None,
            seen: None,
        });
        entry.changed = Some(Instant::now());
        entry.seen = None;
    }

    /// AWS's answer about the stream's resource (after a create or update, or a describe).
    pub fn seen(&self, uid: &str, item: &K) {
        let mut known = self.known.lock().unwrap();
        let entry = known.entry((uid.to_owned(), item.role())).or_insert(Known {
            changed: None,
            seen: None,
        });
        entry.seen = Some((Instant::now(), item.clone()));
    }

    /// The stream is gone.
    pub fn forget(&self, uid: &str) {
        self.known.lock().unwrap().retain(|(owner, _), _| owner != uid);
    }
}

impl<K: Listed> KindCache<K> {
    /// The stream's resource of this kind (`None`: there is none), read as cheaply as the
    /// freshness bounds allow. `list` and `describe` are the kind's AWS calls.
    pub async fn observe<L, LF, D, DF>(
        &self,
        lookup: Lookup<'_>,
        freshness: Freshness,
        list: L,
        describe: D,
    ) -> Result<Option<K>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<Vec<K>>>,
        D: Fn(String) -> DF,
        DF: Future<Output = Result<Option<K>>>,
    {
        let fresh = freshness.listed_after(self.started);
        let key = (lookup.uid.to_owned(), lookup.role);
        let known = self.known.lock().unwrap().get(&key).cloned();
        let changed = known.as_ref().and_then(|k| k.changed);
        if K::LISTING_IS_COMPLETE
            && let Some((at, item)) = known.as_ref().and_then(|k| k.seen.as_ref())
            && *at > fresh
            && !item.settling()
        {
            return Ok(Some(item.clone()));
        }
        let recently_changed = changed.is_some_and(|at| at > fresh);
        let after = changed.map_or(fresh, |at| at.max(fresh));
        // A kind whose listing lacks what the plan needs: its last full answer serves until
        // `full_read` while the shared listing shows the resource as that answer had it.
        if !K::LISTING_IS_COMPLETE
            && !recently_changed
            && let Some((at, item)) = known.as_ref().and_then(|k| k.seen.as_ref())
            && at.elapsed() < freshness.full_read
            && !item.settling()
        {
            let listing = self.listing.after(after, list).await?;
            let summary = listing.iter().find(|k| k.id() == item.id());
            if summary.is_some_and(|summary| item.summary_agrees(summary)) {
                return Ok(Some(item.clone()));
            }
            return self.describe_or_list(lookup, listing, false, describe).await;
        }
        let id = lookup.name.or(lookup.cached);
        let mut described = false;
        if (recently_changed || !K::LISTING_IS_COMPLETE)
            && let Some(id) = id
        {
            let found = describe(id.to_owned()).await?;
            described = true;
            if lookup.name.is_some() || found.as_ref().is_some_and(|k| lookup.matches(k)) {
                return Ok(self.record(lookup.uid, found));
            }
        }
        let listing = self.listing.after(after, list).await?;
        self.describe_or_list(lookup, listing, described, describe).await
    }

    /// The stream's resource as `listing` shows it (described when the listing lacks what the
    /// plan needs); a cached id missing from it is described unless `described` already was.
    async fn describe_or_list<D, DF>(
        &self,
        lookup: Lookup<'_>,
        listing: Arc<Vec<K>>,
        described: bool,
        describe: D,
    ) -> Result<Option<K>>
    where
        D: Fn(String) -> DF,
        DF: Future<Output = Result<Option<K>>>,
    {
        match listing.iter().find(|k| lookup.matches(*k)) {
            Some(hit) if K::LISTING_IS_COMPLETE => Ok(Some(hit.clone())),
            Some(hit) => {
                let found = describe(hit.id().to_owned()).await?;
                Ok(self.record(lookup.uid, found.filter(|k| lookup.matches(k))))
            }
            None => match lookup.cached.filter(|_| !described) {
                // Lists may lag behind: what was seen before is described once more.
                Some(id) => {
                    let found = describe(id.to_owned()).await?;
                    Ok(self.record(lookup.uid, found.filter(|k| lookup.matches(k))))
                }
                None => Ok(None),
            },
        }
    }

    fn record(&self, uid: &str, found: Option<K>) -> Option<K> {
        if let Some(item) = &found {
            self.seen(uid, item);
        }
        found
    }
}

/// Finding what a stream may own without knowing it (a create whose answer was lost, or one by an
/// earlier operator process), for a kind read by the id status records: any listing that began
/// after this process started and after the stream's last create shows it, so one listing serves
/// every stream that has not created since — not one listing per stream.
pub struct Discovery<T> {
    started: Instant,
    listing: SharedListing<T>,
    created: Mutex<HashMap<String, Instant>>,
}

impl<T> Default for Discovery<T> {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            listing: Default::default(),
            created: Default::default(),
        }
    }
}

impl<T> Discovery<T> {
    /// Sends the stream's create: only listings begun after its answer serve the stream afterwards.
    pub async fn create<R>(&self, uid: &str, call: impl Future<Output = Result<R>>) -> Result<R> {
        self.mark(uid);
        let answer = call.await;
        self.mark(uid);
        answer
    }

    fn mark(&self, uid: &str) {
        self.created.lock().unwrap().insert(uid.to_owned(), Instant::now());
    }

    /// The stream is gone.
    pub fn forget(&self, uid: &str) {
        self.created.lock().unwrap().remove(uid);
    }

    /// A listing that shows whatever the stream `uid` created: the shared one, or a new one.
    pub async fn listing<L, LF>(&self, uid: &str, list: L) -> Result<Arc<Vec<T>>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<Vec<T>>>,
    {
        self.listing_after(uid, self.started, list).await
    }

    /// Such a listing, begun after `after` too.
    pub async fn listing_after<L, LF>(&self, uid: &str, after: Instant, list: L) -> Result<Arc<Vec<T>>>
    where
        L: FnOnce() -> LF,
        LF: Future<Output = Result<Vec<T>>>,
    {
        let created = self.created.lock().unwrap().get(uid).copied();
        let after = created.map_or(after, |at| at.max(after)).max(self.started);
        self.listing.after(after, list).await
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
