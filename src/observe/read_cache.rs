//! The read cache: what the operator knows of every stream's AWS resources, shared by every
//! reconcile — one `KindCache` per kind (shared listings, the latest answer about each stream's
//! resource), and for MediaPackage v2 and CloudFront, which have no account-wide listing of what
//! a pass needs, each stream's last full read and when.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use super::{
    Observed, ObservedV2,
    cache::{Discovery, Freshness, KindCache, Lookup, SharedListing},
};
use crate::{
    api::AwsResources,
    aws::{
        AwsClients, Channel, Endpoint, Input, Listed, Managed, PackageChannel, Role, SecurityGroup,
        cloudfront::{self, Distribution},
        package_v2::{self, ListedChannel},
    },
    desired::Names,
    error::Result,
};

/// One `KindCache` per kind, shared by every reconcile.
pub struct ReadCache {
    pub package_channels: KindCache<PackageChannel>,
    pub endpoints: KindCache<Endpoint>,
    pub security_groups: KindCache<SecurityGroup>,
    pub inputs: KindCache<Input>,
    pub channels: KindCache<Channel>,
    /// CloudFront distributions are read by the id status records; a listing only finds one a
    /// stream made without knowing it.
    pub distributions: Discovery<cloudfront::Listed>,
    /// Each stream's MediaPackage v2 channel and endpoints as its last finished pass left them:
    /// v2 has no account-wide listing of endpoints, so this answer serves until the full-read
    /// bound while the group's channel listing shows the channel unchanged.
    v2_seen: Mutex<HashMap<String, SeenV2>>,
    /// Each stream's distribution as last read in full (GetDistribution), and when.
    distributions_read: Mutex<HashMap<String, (Instant, Distribution)>>,
    /// One shared ListChannels per channel group.
    v2_listings: Mutex<HashMap<String, Arc<SharedListing<ListedChannel>>>>,
    started: Instant,
}

impl Default for ReadCache {
    fn default() -> Self {
        Self {
            package_channels: KindCache::default(),
            endpoints: KindCache::default(),
            security_groups: KindCache::default(),
            inputs: KindCache::default(),
            channels: KindCache::default(),
            distributions: Discovery::default(),
            v2_seen: Mutex::default(),
            v2_listings: Mutex::default(),
            distributions_read: Mutex::default(),
            started: Instant::now(),
        }
    }
}

struct SeenV2 {
    /// When a finished pass left it.
    at: Instant,
    /// When it was last read in full (GetChannel and each GetOriginEndpoint).
    read_at: Instant,
    v2: ObservedV2,
}

impl ReadCache {
    /// A deleted stream's bookkeeping goes with it.
    pub fn forget(&self, uid: &str) {
        self.package_channels.forget(uid);
        self.endpoints.forget(uid);
        self.security_groups.forget(uid);
        self.inputs.forget(uid);
        self.channels.forget(uid);
        self.distributions.forget(uid);
        self.forget_v2(uid);
        self.distributions_read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(uid);
    }

    /// The stream's distribution: its last full read while that is younger than the full-read
    /// bound, deployed, and a listing begun after it shows it unchanged; otherwise read by id
    /// (`cached`, from status) or found by the uid in its comment.
    pub async fn distribution(
        &self,
        aws: &AwsClients,
        freshness: Freshness,
        uid: &str,
        cached: Option<&str>,
    ) -> Result<Option<Distribution>> {
        let read = {
            let read = self.distributions_read.lock().unwrap_or_else(|e| e.into_inner());
            read.get(uid).cloned()
        };
        if let Some((read_at, seen)) = read
            && cached == Some(seen.id.as_str())
            && read_at.elapsed() < freshness.full_read
            && seen.deployed()
        {
            let after = freshness.listed_after(self.started).max(read_at);
            let listed = self.distributions.listing_after(uid, after, || cloudfront::list(aws));
            if Box::pin(listed).await?.iter().any(|l| l.shows_unchanged(&seen)) {
                return Ok(Some(seen));
            }
        }
        let listed = self.distributions.listing(uid, || cloudfront::list(aws));
        let found = Box::pin(cloudfront::find(aws, cached, uid, listed)).await?;
        let mut read = self.distributions_read.lock().unwrap_or_else(|e| e.into_inner());
        match &found {
            Some(d) => read.insert(uid.to_owned(), (Instant::now(), d.clone())),
            None => read.remove(uid),
        };
        Ok(found)
    }

    /// What a finished pass left of the stream's v2 resources (None: the pass failed, read again).
    pub fn seen_v2(&self, uid: &str, v2: Option<&ObservedV2>) {
        self.remember_v2(uid, v2, None);
    }

    /// `read_at`: when it was read in full (None: when it last was).
    fn remember_v2(&self, uid: &str, v2: Option<&ObservedV2>, read_at: Option<Instant>) {
        let mut seen = self.v2_seen.lock().unwrap_or_else(|e| e.into_inner());
        let Some(v2) = v2 else {
            seen.remove(uid);
            return;
        };
        let now = Instant::now();
        let read_at = read_at.or_else(|| seen.get(uid).map(|s| s.read_at)).unwrap_or(now);
        seen.insert(
            uid.to_owned(),
            SeenV2 {
                at: now,
                read_at,
                v2: v2.clone(),
            },
        );
    }

    pub fn forget_v2(&self, uid: &str) {
        self.seen_v2(uid, None);
    }

    /// The stream's v2 resources without reading them in full, if what its last pass left still
    /// holds: younger than the listing bound, or younger than the full-read bound with the group's
    /// listing (begun after that pass) showing the channel as it was.
    async fn unchanged_v2(
        &self,
        aws: &AwsClients,
        uid: &str,
        group: &str,
        freshness: Freshness,
    ) -> Result<Option<ObservedV2>> {
        let (at, read_at, v2) = {
            let seen = self.v2_seen.lock().unwrap_or_else(|e| e.into_inner());
            match seen.get(uid).filter(|s| s.v2.group == group) {
                Some(s) => (s.at, s.read_at, s.v2.clone()),
                None => return Ok(None),
            }
        };
        if at.elapsed() < freshness.listing {
            return Ok(Some(v2));
        }
        let Some(channel) = v2.channel.as_ref().filter(|_| read_at.elapsed() < freshness.full_read) else {
            return Ok(None);
        };
        let listing = {
            let mut listings = self.v2_listings.lock().unwrap_or_else(|e| e.into_inner());
            listings.entry(group.to_owned()).or_default().clone()
        };
        let after = freshness.listed_after(self.started).max(at);
        let listed = Box::pin(listing.after(after, || package_v2::list_channels(aws, group))).await?;
        let unchanged = listed
            .iter()
            .any(|c| c.name == channel.name && Some(&c.modified_at) == channel.modified_at.as_ref());
        Ok(unchanged.then_some(v2))
    }

    /// The stream's v2 resources read in full.
    pub async fn read_v2(&self, aws: &AwsClients, uid: &str, group: &str, channel: &str) -> Result<ObservedV2> {
        let v2 = Box::pin(observe_v2(aws, group, channel)).await?;
        self.remember_v2(uid, Some(&v2), Some(Instant::now()));
        Ok(v2)
    }

    /// Reads everything of the stream `uid` (the five kinds concurrently, then MediaPackage v2 in
    /// `v2_group` when there is one to read).
    pub async fn observe(
        &self,
        aws: &AwsClients,
        freshness: Freshness,
        uid: &str,
        names: &Names,
        cached: &AwsResources,
        v2_group: Option<&str>,
    ) -> Result<Observed> {
        fn by_tag<'a>(uid: &'a str, cached: &'a Option<String>) -> Lookup<'a> {
            Lookup {
                uid,
                role: Role::Main,
                name: None,
                cached: cached.as_deref(),
            }
        }
        let package_channel = Lookup {
            uid,
            role: Role::Main,
            name: Some(&names.channel),
            cached: cached.media_package_channel_id.as_deref(),
        };
        let endpoint = Lookup {
            uid,
            role: Role::Main,
            name: Some(&names.endpoint),
            cached: cached.origin_endpoint_id.as_deref(),
        };
        // Every role an input can have: one the spec no longer asks for is found, to be deleted.
        let inputs =
            Input::ROLES.iter().map(|&role| {
                let cached = (role == Role::Primary)
                    .then_some(&cached.input_id)
                    .and_then(Option::as_deref);
                let lookup = Lookup {
                    uid,
                    role,
                    name: None,
                    cached,
                };
                async move {
                    Ok::<_, crate::error::Error>(read(&self.inputs, aws, lookup, freshness).await?.map(|i| (role, i)))
                }
            });
        let (package_channel, endpoint, security_group, inputs, channel) = futures::try_join!(
            read(&self.package_channels, aws, package_channel, freshness),
            read(&self.endpoints, aws, endpoint, freshness),
            read(
                &self.security_groups,
                aws,
                by_tag(uid, &cached.input_security_group_id),
                freshness
            ),
            futures::future::try_join_all(inputs),
            read(&self.channels, aws, by_tag(uid, &cached.channel_id), freshness),
        )?;
        let v2 = match v2_group {
            Some(group) => match self.unchanged_v2(aws, uid, group, freshness).await? {
                Some(seen) => Some(seen),
                None => Some(self.read_v2(aws, uid, group, &names.channel).await?),
            },
            None => None,
        };
        Ok(Observed {
            package_channel,
            endpoint,
            security_group,
            inputs: inputs.into_iter().flatten().collect(),
            channel,
            v2,
            // Read by the pass, not the read cache.
            ..Observed::default()
        })
    }
}

/// v2 names are deterministic: the channel by name in its group, its endpoints by kind.
async fn observe_v2(aws: &AwsClients, group: &str, channel: &str) -> Result<ObservedV2> {
    let found = package_v2::get_channel(aws, group, channel).await?;
    let endpoints = match &found {
        Some(_) => crate::aws::origin_endpoint::get_endpoints(aws, group, channel).await?,
        None => Vec::new(),
    };
    Ok(ObservedV2 {
        group: group.to_owned(),
        channel: found,
        endpoints,
    })
}

async fn read<K: Listed>(
    cache: &KindCache<K>,
    aws: &AwsClients,
    lookup: Lookup<'_>,
    freshness: Freshness,
) -> Result<Option<K>> {
    let list = || Box::pin(K::list(aws));
    let describe = |id: String| Box::pin(async move { K::describe(aws, &id).await });
    Box::pin(cache.observe(lookup, freshness, list, describe)).await
}
