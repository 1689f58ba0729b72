//! UpdateChannelClass (`PUT /prod/channels/{channelId}/channelClass`, body `{channelClass,
//! destinations?}`): a channel changes between SINGLE_PIPELINE and STANDARD while IDLE, then is
//! UPDATING and IDLE again, as after UpdateChannel. With the new class the channel must still
//! validate: a STANDARD channel needs standard-class inputs and two URLs per destination (hence
//! the optional new `destinations`), the same rules as CreateChannel and UpdateChannel (422).
//! The model lists ConflictException "The channel class cannot be updated due to an issue with
//! channel resources": a channel that is not IDLE is refused with it (the wording is ours).

use axum::response::Response;
use serde_json::Value;

use super::MediaLive;
use crate::protocol::{ApiRequest, ApiResult, parse_body};

impl MediaLive {
    pub(super) fn update_channel_class(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = req.segments[2].clone();
        let body: Value = parse_body(&req.body)?;
        self.update_idle(req, &id, "changed to another class", |settings| {
            // Required by the model (checked before this), its enum too.
            settings.insert("channelClass".into(), body["channelClass"].clone());
            if let Some(destinations) = body.get("destinations").filter(|d| !d.is_null()) {
                settings.insert("destinations".into(), destinations.clone());
            }
        })
    }
}
