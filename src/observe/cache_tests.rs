//! The read cache of one kind, against a counting fake account.

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
    fn differs(&self, _: &()) -> bool {
        false
    }
    async fn create(_: &AwsClients, _: &(), _: &Owner<'_>) -> Result<Self> {
        unreachable!()
    }
    async fn update(_: &AwsClients, _: &Self, _: &()) -> Result<Self> {
        unreachable!()
    }
    async fn delete(_: &AwsClients, _: &Self) -> Result<()> {
        unreachable!()
    }
}

impl<const COMPLETE: bool> Listed for Fake<COMPLETE> {
    const LISTING_IS_COMPLETE: bool = COMPLETE;
    fn settling(&self) -> bool {
        self.settling
    }
    fn summary_agrees(&self, summary: &Self) -> bool {
        self == summary
    }
    async fn describe(_: &AwsClients, _: &str) -> Result<Option<Self>> {
        unreachable!("the tests pass their own calls")
    }
    async fn list(_: &AwsClients) -> Result<Vec<Self>> {
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
