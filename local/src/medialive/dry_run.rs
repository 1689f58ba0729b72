//! `dryRun: true` on CreateChannel and UpdateChannel (the model's `DryRun` member, a
//! `__boolean` documented only as "Placeholder documentation"): the request is checked exactly as
//! the real call checks it — the model, every channel rule, the quota, IAM's PassRole — and
//! nothing happens: no channel, no id, no request id remembered, no change of settings or state.
//!
//! AWS documents neither the success answer nor how a dry run meets the channel's state, so these
//! are choices:
//! - the answer is the real call's: 201 `{channel}` for CreateChannel (the channel as it would be
//!   created, CREATING, without `id` nor `arn` since none is allotted), 200 `{channel}` for
//!   UpdateChannel (the channel with the new settings, in the state it is in now);
//! - a dry-run UpdateChannel checks the settings whatever the channel's state, RUNNING included
//!   (a real update of a running channel is a ConflictException: an operator dry-runs a change
//!   before deciding to stop the channel for it); a channel being deleted answers the real call's
//!   ConflictException, as there is nothing left to update;
//! - a dry-run CreateChannel's `requestId` is neither looked up nor remembered: a dry run
//!   creates nothing a retry could find.
//!
//! The quota is checked (a create over it is refused as the real one would be) but not used.

use axum::{http::StatusCode, response::Response};
use serde_json::{Map, Value, json};

use super::MediaLive;
use super::channels::{Channel, ChannelState, not_found, not_idle};
use crate::protocol::{ApiRequest, ApiResult, json_response};

/// Whether the request body asks for a dry run.
pub fn asked(body: &Value) -> bool {
    body["dryRun"].as_bool() == Some(true)
}

/// CreateChannel's dry-run answer: `channel` (built, never stored) without the id and ARN a real
/// create would allot.
pub(super) fn created(channel: &Channel) -> Response {
    let mut value = channel.to_json();
    if let Some(object) = value.as_object_mut() {
        object.remove("id");
        object.remove("arn");
    }
    json_response(StatusCode::CREATED, json!({ "channel": value }))
}

impl MediaLive {
    /// UpdateChannel's dry run: `change` applied to a copy of the channel's settings, checked as
    /// the real update checks them, and described back; the channel itself is left as it was.
    pub(super) fn dry_run_update(
        &self,
        req: &ApiRequest,
        id: &str,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> ApiResult<Response> {
        let mut state = self.state();
        let channel = state.channels.get(id).ok_or_else(|| not_found(id))?;
        let current = channel.state();
        if matches!(current, ChannelState::Deleting | ChannelState::Deleted) {
            return Err(not_idle(id, current, "updated"));
        }
        let mut settings = channel.settings.clone();
        change(&mut settings);
        self.validate(&mut state, &settings, Some(id), req)?;
        let engine = self.resolve_engine(&settings).ok().flatten();
        let channel = state.channels.get(id).expect("found above");
        let value = channel.describe(&settings, engine.as_ref());
        Ok(json_response(StatusCode::OK, json!({ "channel": value })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_true_dry_run_member_asks_for_one() {
        assert!(asked(&json!({"dryRun": true})));
        assert!(!asked(&json!({"dryRun": false})));
        assert!(!asked(&json!({})));
        assert!(!asked(&json!({"DryRun": true})), "the wire name is camelCase");
    }
}
