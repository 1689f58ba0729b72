//! Shared List results. A stream without a cached id has to look for its resources by owner tag,
//! which means listing every security group, input or channel in the account — 1,000 items each at
//! scale, for every new or deleting stream. Streams share one listing instead, on one condition
//! that keeps adoption safe: a listing only serves a stream if it began after anything of that kind
//! this stream might have created. That is after this process started reconciling (what earlier
//! processes created is in it) and after this process's own last create attempt for the stream (a
//! create whose answer was lost is in it). Stale entries are harmless: every hit is described again.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use aws_sdk_medialive::types::{ChannelState, ChannelSummary, Input, InputSecurityGroup, InputState};

use super::observe::owned;
use crate::{
    aws::AwsClients,
    error::{Error, Result},
};

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Kind {
    SecurityGroup,
    Input,
    Channel,
}

type Slot<T> = tokio::sync::Mutex<Option<(Instant, Arc<Vec<T>>)>>;

pub struct Listings {
    started: Instant,
    creating: Mutex<HashMap<(String, Kind), Instant>>,
    security_groups: Slot<InputSecurityGroup>,
    inputs: Slot<Input>,
    channels: Slot<ChannelSummary>,
}

impl Default for Listings {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            creating: Mutex::default(),
            security_groups: Default::default(),
            inputs: Default::default(),
            channels: Default::default(),
        }
    }
}

impl Listings {
    /// Call before sending a create: later look-ups of this stream wait for a newer listing.
    pub fn creating(&self, uid: &str, kind: Kind) {
        self.creating
            .lock()
            .unwrap()
            .insert((uid.to_owned(), kind), Instant::now());
    }

    /// A deleted stream's create attempts no longer matter.
    pub fn forget(&self, uid: &str) {
        self.creating.lock().unwrap().retain(|(owner, _), _| owner != uid);
    }

    fn needed_after(&self, uid: &str, kind: Kind) -> Instant {
        let created = self.creating.lock().unwrap().get(&(uid.to_owned(), kind)).copied();
        created.map_or(self.started, |at| at.max(self.started))
    }

    /// The id of `uid`'s security group in a suitable listing.
    pub async fn security_group_id(&self, aws: &AwsClients, uid: &str) -> Result<Option<String>> {
        let after = self.needed_after(uid, Kind::SecurityGroup);
        let all = shared(&self.security_groups, after, || async {
            let mut all = Vec::new();
            let mut pages = aws.medialive.list_input_security_groups().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| Error::aws("ListInputSecurityGroups", e))?;
                all.extend(page.input_security_groups.unwrap_or_default());
            }
            Ok(all)
        })
        .await?;
        Ok(all
            .iter()
            .find(|g| owned(g.tags.as_ref(), uid))
            .and_then(|g| g.id.clone()))
    }

    /// The id of `uid`'s input (not deleted) in a suitable listing.
    pub async fn input_id(&self, aws: &AwsClients, uid: &str) -> Result<Option<String>> {
        let after = self.needed_after(uid, Kind::Input);
        let all = shared(&self.inputs, after, || async {
            let mut all = Vec::new();
            let mut pages = aws.medialive.list_inputs().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| Error::aws("ListInputs", e))?;
                all.extend(page.inputs.unwrap_or_default());
            }
            Ok(all)
        })
        .await?;
        let mine = all
            .iter()
            .find(|i| owned(i.tags.as_ref(), uid) && i.state != Some(InputState::Deleted));
        Ok(mine.and_then(|i| i.id.clone()))
    }

    /// The id of `uid`'s channel (not deleted) in a suitable listing.
    pub async fn channel_id(&self, aws: &AwsClients, uid: &str) -> Result<Option<String>> {
        let after = self.needed_after(uid, Kind::Channel);
        let all = shared(&self.channels, after, || async {
            let mut all = Vec::new();
            let mut pages = aws.medialive.list_channels().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| Error::aws("ListChannels", e))?;
                all.extend(page.channels.unwrap_or_default());
            }
            Ok(all)
        })
        .await?;
        let mine = all
            .iter()
            .find(|c| owned(c.tags.as_ref(), uid) && c.state != Some(ChannelState::Deleted));
        Ok(mine.and_then(|c| c.id.clone()))
    }
}

/// The slot's listing if it began after `after`; otherwise a new one (streams that wait on the lock
/// meanwhile get that one).
async fn shared<T, F, Fut>(slot: &Slot<T>, after: Instant, list: F) -> Result<Arc<Vec<T>>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    let mut slot = slot.lock().await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_listing_serves_only_streams_that_created_nothing_since_it_began() {
        let listings = Listings::default();
        let slot: Slot<u32> = Default::default();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let list = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(vec![1])
        };
        let after = listings.needed_after("a", Kind::Input);
        shared(&slot, after, list).await.unwrap();
        shared(&slot, listings.needed_after("b", Kind::Input), list)
            .await
            .unwrap();
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "b shares a's listing"
        );

        listings.creating("b", Kind::Input);
        shared(&slot, listings.needed_after("b", Kind::Input), list)
            .await
            .unwrap();
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::Relaxed),
            2,
            "b created since: a new one"
        );
        shared(&slot, listings.needed_after("a", Kind::Input), list)
            .await
            .unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2, "a shares it again");
        shared(&slot, listings.needed_after("b", Kind::Channel), list)
            .await
            .unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2, "per kind");
    }
}
