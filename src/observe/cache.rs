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
    aws::{Managed, Role},
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
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

    use super::*;
    use crate::aws::{AwsClients, Kind, Owner};

    /// A resource of a kind found by owner tag; `settling` like an input being created.
    #[derive(Clone, Debug, PartialEq)]
    /// `COMPLETE`: whether a listing holds all of it (a MediaLive channel's does not).
    struct Fake<const COMPLETE: bool = true> {
        id: String,
        owner: String,
        role: Role,
        settling: bool,
    }

    impl<const COMPLETE: bool> Managed for Fake<COMPLETE> {
        const KIND: Kind = Kind::Input;
        const LISTING_IS_COMPLETE: bool = COMPLETE;
        type Desired = ();
        fn id(&self) -> &str {
            &self.id
        }
        fn owner(&self) -> Option<&str> {
            Some(&self.owner)
        }
        fn role(&self) -> Role {
            self.role
        }
        fn settling(&self) -> bool {
            self.settling
        }
        fn summary_agrees(&self, summary: &Self) -> bool {
            self == summary
        }
        fn differs(&self, _: &()) -> bool {
            false
        }
        async fn describe(_: &AwsClients, _: &str) -> Result<Option<Self>> {
            unreachable!("the tests pass their own calls")
        }
        async fn list(_: &AwsClients) -> Result<Vec<Self>> {
            unreachable!()
        }
        async fn create(_: &AwsClients, _: &(), _: &Owner<'_>) -> Result<Self> {
            unreachable!()
        }
        async fn update(_: &AwsClients, _: &Self, _: &()) -> Result<Self> {
            unreachable!()
        }
        async fn delete(_: &AwsClients, _: &str) -> Result<()> {
            unreachable!()
        }
    }

    /// An account holding `items`, counting List and Describe calls.
    struct Account<const COMPLETE: bool = true> {
        items: Mutex<Vec<Fake<COMPLETE>>>,
        lists: AtomicU32,
        describes: AtomicU32,
    }

    impl<const COMPLETE: bool> Account<COMPLETE> {
        fn new() -> Self {
            Self {
                items: Mutex::default(),
                lists: AtomicU32::new(0),
                describes: AtomicU32::new(0),
            }
        }

        fn add(&self, id: &str, owner: &str) {
            self.add_in_role(id, owner, Role::Main);
        }

        fn add_in_role(&self, id: &str, owner: &str, role: Role) {
            let fake = Fake {
                id: id.into(),
                owner: owner.into(),
                role,
                settling: false,
            };
            self.items.lock().unwrap().push(fake);
        }

        async fn observe(
            &self,
            cache: &KindCache<Fake<COMPLETE>>,
            uid: &str,
            cached: Option<&str>,
            max_age: Duration,
        ) -> Option<Fake<COMPLETE>> {
            let freshness = Freshness {
                listing: max_age,
                full_read: LONG,
            };
            self.observe_with(cache, uid, cached, freshness).await
        }

        async fn observe_with(
            &self,
            cache: &KindCache<Fake<COMPLETE>>,
            uid: &str,
            cached: Option<&str>,
            freshness: Freshness,
        ) -> Option<Fake<COMPLETE>> {
            self.observe_role(cache, uid, Role::Main, cached, freshness).await
        }

        async fn observe_role(
            &self,
            cache: &KindCache<Fake<COMPLETE>>,
            uid: &str,
            role: Role,
            cached: Option<&str>,
            freshness: Freshness,
        ) -> Option<Fake<COMPLETE>> {
            let lookup = Lookup {
                uid,
                role,
                name: None,
                cached,
            };
            let list = || async {
                self.lists.fetch_add(1, Relaxed);
                Ok(self.items.lock().unwrap().clone())
            };
            let describe = |id: String| async move {
                self.describes.fetch_add(1, Relaxed);
                Ok(self.items.lock().unwrap().iter().find(|f| f.id == id).cloned())
            };
            cache.observe(lookup, freshness, list, describe).await.unwrap()
        }

        fn calls(&self) -> (u32, u32) {
            (self.lists.load(Relaxed), self.describes.load(Relaxed))
        }
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn a_create_whose_answer_was_lost_is_adopted_from_a_listing_begun_after_it() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        assert_eq!(account.observe(&cache, "a", None, LONG).await, None);
        // The create reaches AWS, its answer is lost (no `seen`, no id in status).
        cache.changing("a", Role::Main);
        account.add("7", "a");
        // The listing from before the create does not serve "a"; a new one finds its resource.
        let found = account.observe(&cache, "a", None, LONG).await;
        assert_eq!(found.map(|f| f.id), Some("7".into()));
        assert_eq!(account.calls(), (2, 0));
    }

    /// A stream's primary and backup are two resources of one kind: each is found by its role tag,
    /// and a lost create answer for one is adopted without touching the other's cached answer.
    #[tokio::test]
    async fn a_streams_resources_of_one_kind_are_found_and_cached_by_role() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        let fresh = Freshness {
            listing: LONG,
            full_read: LONG,
        };
        account.add_in_role("p", "a", Role::Primary);
        let primary = account.observe_role(&cache, "a", Role::Primary, None, fresh).await;
        assert_eq!(primary.map(|f| f.id), Some("p".into()));
        assert_eq!(account.observe_role(&cache, "a", Role::Backup, None, fresh).await, None);
        // The backup's create: its answer lost. Only the backup's role reads a new listing.
        cache.changing("a", Role::Backup);
        account.add_in_role("b", "a", Role::Backup);
        let backup = account.observe_role(&cache, "a", Role::Backup, None, fresh).await;
        assert_eq!(backup.map(|f| f.id), Some("b".into()));
        assert_eq!(account.calls(), (2, 0));
        let primary = account.observe_role(&cache, "a", Role::Primary, Some("p"), fresh).await;
        assert_eq!(primary.map(|f| f.id), Some("p".into()));
        assert_eq!(account.calls(), (2, 0), "the primary's answer still serves");
    }

    #[tokio::test]
    async fn a_restarted_operator_adopts_what_the_last_one_created() {
        let account = Account::<true>::new();
        account.add("7", "a");
        let found = account.observe(&KindCache::default(), "a", None, LONG).await;
        assert_eq!(found.map(|f| f.id), Some("7".into()));
    }

    #[tokio::test]
    async fn one_listing_serves_every_stream_that_did_not_change_since_it_began() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        for uid in ["a", "b", "c"] {
            account.add(&format!("id-{uid}"), uid);
        }
        for uid in ["a", "b", "c"] {
            assert!(
                account
                    .observe(&cache, uid, Some(&format!("id-{uid}")), LONG)
                    .await
                    .is_some()
            );
        }
        assert_eq!(account.calls(), (1, 0), "one List for three streams, no Describe");
        // A listing older than the freshness bound serves nobody.
        assert!(account.observe(&cache, "a", None, Duration::ZERO).await.is_some());
        assert_eq!(account.calls(), (2, 0));
    }

    #[tokio::test]
    async fn a_fresh_settled_answer_is_reused_and_a_settling_one_described_again() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        cache.changing("a", Role::Main);
        let mut creating = Fake::<true> {
            id: "7".into(),
            owner: "a".into(),
            role: Role::Main,
            settling: true,
        };
        account.items.lock().unwrap().push(creating.clone());
        cache.seen("a", &creating);
        // Being created: described (the stream just changed it), not listed.
        account.observe(&cache, "a", Some("7"), LONG).await;
        assert_eq!(account.calls(), (0, 1));
        creating.settling = false;
        *account.items.lock().unwrap() = vec![creating];
        account.observe(&cache, "a", Some("7"), LONG).await;
        assert_eq!(account.calls(), (0, 2));
        // Settled and fresh: no call at all.
        let found = account.observe(&cache, "a", Some("7"), LONG).await;
        assert_eq!(found.map(|f| f.settling), Some(false));
        assert_eq!(account.calls(), (0, 2));
    }

    #[tokio::test]
    async fn a_cached_id_missing_from_a_listing_is_described_before_it_counts_as_gone() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        assert_eq!(account.observe(&cache, "a", Some("7"), LONG).await, None);
        assert_eq!(account.calls(), (1, 1));
        // Someone else's resource under the cached id is not ours.
        account.add("7", "b");
        assert_eq!(account.observe(&cache, "a", Some("7"), Duration::ZERO).await, None);
    }

    #[tokio::test]
    async fn a_listing_begun_while_a_change_was_on_its_way_does_not_serve_it() {
        let (account, cache) = (Account::<true>::new(), KindCache::<Fake>::default());
        account.add("7", "a");
        let delete = cache.change("a", Role::Main, async {
            // Another stream's listing begins after the call was sent and is answered before AWS
            // carries the deletion out: it still shows "7".
            account.observe(&cache, "b", None, LONG).await;
            account.items.lock().unwrap().clear();
            Ok(())
        });
        delete.await.unwrap();
        assert_eq!(account.observe(&cache, "a", None, LONG).await, None);
        assert_eq!(account.calls(), (2, 0), "a second listing, begun after the answer");
    }

    #[tokio::test]
    async fn a_full_answer_serves_until_the_full_read_bound_while_listings_show_it_unchanged() {
        let (account, cache) = (Account::<false>::new(), KindCache::<Fake<false>>::default());
        account.add("7", "a");
        let every_pass = |full_read| Freshness {
            listing: Duration::ZERO,
            full_read,
        };
        // The first read is in full; then one listing per pass, no Describe.
        account.observe_with(&cache, "a", Some("7"), every_pass(LONG)).await;
        assert_eq!(account.calls(), (0, 1));
        account.observe_with(&cache, "a", Some("7"), every_pass(LONG)).await;
        assert_eq!(account.calls(), (1, 1));
        // The listing shows it changed (someone else stopped it): described again.
        account.items.lock().unwrap()[0].settling = true;
        let found = account.observe_with(&cache, "a", Some("7"), every_pass(LONG)).await;
        assert_eq!(found.map(|f| f.settling), Some(true));
        assert_eq!(account.calls(), (2, 2));
        // Past the full-read bound: described, however unchanged the listing.
        account.items.lock().unwrap()[0].settling = false;
        account
            .observe_with(&cache, "a", Some("7"), every_pass(Duration::ZERO))
            .await;
        account
            .observe_with(&cache, "a", Some("7"), every_pass(Duration::ZERO))
            .await;
        assert_eq!(account.calls(), (2, 4));
    }

    #[tokio::test]
    async fn discovery_lists_once_for_every_stream_and_again_only_after_a_create() {
        let discovery = Discovery::<String>::default();
        let lists = AtomicU32::new(0);
        let list = || async {
            lists.fetch_add(1, Relaxed);
            Ok(vec!["made-by-a".to_owned()])
        };
        for uid in ["a", "b", "c"] {
            assert_eq!(*discovery.listing(uid, list).await.unwrap(), ["made-by-a"]);
        }
        assert_eq!(lists.load(Relaxed), 1, "one listing for three streams");
        // A create whose answer is lost: only a listing begun after it may say it is not there.
        let lost = discovery.create("b", async { Err::<(), _>(crate::error::Error::Waiting("lost".into())) });
        assert!(lost.await.is_err());
        discovery.listing("b", list).await.unwrap();
        assert_eq!(lists.load(Relaxed), 2, "b lists again");
        discovery.listing("a", list).await.unwrap();
        discovery.listing("c", list).await.unwrap();
        assert_eq!(lists.load(Relaxed), 2, "that listing serves the others too");
    }
}
