//! UpdateChannelClass (`PUT /prod/channels/{channelId}/channelClass`, body `{channelClass,
//! destinations?}`): a channel changes between SINGLE_PIPELINE and STANDARD while IDLE, then is
//! UPDATING and IDLE again, as after UpdateChannel. With the new class the channel must still
//! validate: a STANDARD channel needs standard-class inputs and two URLs per destination (hence
//! the optional new `destinations`), the same rules as CreateChannel and UpdateChannel (422).
//! The model lists ConflictException "The channel class cannot be updated due to an issue with
//! channel resources": a channel that is not IDLE is refused with it (the wording is ours).

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::{ChannelState, MediaLive};
use crate::protocol::{ApiError, ApiRequest, ApiResult, json_response, parse_body};

impl MediaLive {
    pub(super) fn update_channel_class(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = req.segments[2].clone();
        let body: Value = parse_body(&req.body)?;
        let mut state = self.state();
        let channel = (state.channels.get(&id)).ok_or_else(|| super::channels::not_found(&id))?;
        let now = channel.state();
        if now != ChannelState::Idle {
            return Err(ApiError::conflict(format!(
                "Channel {id} is {}; its class can only be changed while IDLE (stop it first)",
                serde_json::to_value(now)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )));
        }
        // Required by the model (checked before this), its enum too.
        let class = body["channelClass"].clone();
        let mut settings = channel.settings.clone();
        settings.insert("channelClass".into(), class);
        if let Some(destinations) = body.get("destinations").filter(|d| !d.is_null()) {
            settings.insert("destinations".into(), destinations.clone());
        }
        self.validate(&mut state, &settings, Some(&id), req)?;
        let delay = self.delay(|d| d.channel_update_ms);
        let channel = state.channels.get_mut(&id).expect("checked");
        channel.settings = settings;
        channel
            .lifecycle
            .begin(ChannelState::Updating, ChannelState::Idle, delay);
        Ok(json_response(StatusCode::OK, json!({ "channel": channel.to_json() })))
    }
}
