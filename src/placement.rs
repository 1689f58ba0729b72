//! Which MediaPackage v2 channel group a new stream's channel goes into when the stream names none:
//! the operator's group while it has room, then `<group>-2`, `<group>-3`, … AWS allows 10 channels
//! per group by default (raisable): the operator learns that a group is full from AWS's refusal
//! rather than from a setting that could disagree with the account, and tries a full group again a
//! minute later (streams are deleted). A stream placed past the first group records its group in an
//! annotation just before its channel is created there, so a pass that crashes after the create
//! looks in the same group and adopts the channel instead of making another; the annotation goes
//! when that group refuses the channel.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use kube::{
    Api, ResourceExt,
    api::{Patch, PatchParams},
};
use serde_json::json;

use crate::{
    api::LiveStream,
    context::{Context, FIELD_MANAGER},
    error::Result,
};

/// The v2 channel group the operator placed the stream in (absent: the operator's own group).
pub const ANNOTATION: &str = "media.livestream.io/channel-group";

/// A group refused a channel this long ago may have room again (streams are deleted).
const FULL_FOR: Duration = Duration::from_secs(60);

/// Groups tried before placement gives up (AWS's default is 3 channel groups per account).
const MAX_GROUPS: usize = 1000;

/// The groups AWS recently refused a channel in, shared by every pass.
#[derive(Default)]
pub struct Placement {
    /// Each full group with the moment it may be tried again.
    full: Mutex<HashMap<String, Instant>>,
}

impl Placement {
    /// The first of `base`, `base-2`, `base-3`, … not known to be full.
    pub fn choose(&self, base: &str) -> String {
        let mut full = self.full.lock().unwrap_or_else(|e| e.into_inner());
        full.retain(|_, until| *until > Instant::now());
        (1..=MAX_GROUPS)
            .map(|n| nth(base, n))
            .find(|group| !full.contains_key(group))
            .unwrap_or_else(|| nth(base, MAX_GROUPS))
    }

    /// AWS refused a channel in `group`: its quota of channels is reached.
    pub fn mark_full(&self, group: &str) {
        let mut full = self.full.lock().unwrap_or_else(|e| e.into_inner());
        full.insert(group.to_owned(), Instant::now() + FULL_FOR);
    }
}

/// The group the stream was placed in by an earlier pass, if it was placed past the first.
pub fn placed(stream: &LiveStream) -> Option<String> {
    stream.annotations().get(ANNOTATION).filter(|g| !g.is_empty()).cloned()
}

/// Records on the stream that its channel goes into `group` (None: wherever placement says).
pub async fn record(ctx: &Context, stream: &LiveStream, group: Option<&str>) -> Result<()> {
    let api: Api<LiveStream> = Api::namespaced(ctx.client.clone(), &stream.namespace().unwrap_or_default());
    let patch = json!({ "metadata": { "annotations": { ANNOTATION: group } } });
    api.patch(
        &stream.name_any(),
        &PatchParams::apply(FIELD_MANAGER),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

fn nth(base: &str, n: usize) -> String {
    if n == 1 { base.to_owned() } else { format!("{base}-{n}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_fill_the_operators_group_then_the_next_ones_in_order() {
        let placement = Placement::default();
        assert_eq!(placement.choose("livestream"), "livestream");
        placement.mark_full("livestream");
        assert_eq!(placement.choose("livestream"), "livestream-2");
        placement.mark_full("livestream-2");
        assert_eq!(placement.choose("livestream"), "livestream-3");
        // Another base is unaffected.
        assert_eq!(placement.choose("events"), "events");
    }

    #[test]
    fn a_full_group_is_tried_again_once_streams_may_have_left_it() {
        let placement = Placement::default();
        placement.mark_full("livestream");
        placement
            .full
            .lock()
            .unwrap()
            .insert("livestream".into(), Instant::now());
        assert_eq!(placement.choose("livestream"), "livestream");
    }
}
