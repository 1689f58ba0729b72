//! Channels of a channel group: create (unique in the group, within the quota; CMAF-only
//! settings checked by [`rules::check_channel`]), update (ETag checked), delete (only when no
//! origin endpoint is left), and how GetChannel describes one with its two ingest endpoints.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    MediaPackageV2, State,
    channel_groups::{group, group_mut},
    client_tokens::{remember, replayed},
    errors::{conflict, not_found, quota_exceeded},
    member_str,
    meta::{Meta, meta_json, new_meta, next_etag, updated},
    origin_endpoints::Endpoint,
    present, rules,
    tags::tags_of,
};
use crate::protocol::{ApiRequest, ApiResult};

pub(super) struct Channel {
    pub(super) name: String,
    pub(super) meta: Meta,
    pub(super) input_type: String,
    input_switch: Option<Value>,
    output_header: Option<Value>,
    pub(super) endpoints: BTreeMap<String, Endpoint>,
}

impl MediaPackageV2 {
    pub(super) fn create_channel(&self, req: &ApiRequest, body: &Value, g: &str) -> ApiResult<Value> {
        let name = member_str(body, "ChannelName");
        let input_type = body["InputType"].as_str().unwrap_or("HLS").to_owned();
        rules::check_channel(&input_type, body)?;
        let mut state = self.inner.state.lock().unwrap();
        let retried = replayed(&state, "CreateChannel", req, body)?;
        let quota = self.quotas().channels;
        let group = group(&state, g)?;
        if let Some(existing) = group.channels.get(&name) {
            if retried {
                return Ok(self.channel_json(g, existing));
            }
            return Err(conflict(
                "RESOURCE_ALREADY_EXISTS",
                format!("A channel named {name} already exists in channel group {g}"),
            ));
        }
        if group.channels.len() >= quota {
            return Err(quota_exceeded(format!(
                "You've reached the quota of {quota} channels in channel group {g}"
            )));
        }
        let arn = format!("{}/channel/{name}", group.meta.arn);
        let meta = new_meta(&mut state, arn, body, tags_of(body, "tags"));
        let channel = Channel {
            name: name.clone(),
            meta,
            input_type,
            input_switch: present(body, "InputSwitchConfiguration"),
            output_header: present(body, "OutputHeaderConfiguration"),
            endpoints: BTreeMap::new(),
        };
        let value = self.channel_json(g, &channel);
        group_mut(&mut state, g)?.channels.insert(name, channel);
        remember(&mut state, "CreateChannel", req, body);
        Ok(value)
    }

    pub(super) fn update_channel(&self, req: &ApiRequest, body: &Value, g: &str, c: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        let etag = next_etag(&mut state);
        let channel = channel_mut(&mut state, g, c)?;
        rules::check_channel(&channel.input_type, body)?;
        updated(&mut channel.meta, req, body, etag)?;
        channel.input_switch = present(body, "InputSwitchConfiguration");
        channel.output_header = present(body, "OutputHeaderConfiguration");
        Ok(self.channel_json(g, channel))
    }

    pub(super) fn delete_channel(&self, g: &str, c: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Some(group) = state.groups.get_mut(g)
            && let Some(channel) = group.channels.get(c)
        {
            if !channel.endpoints.is_empty() {
                return Err(conflict(
                    "RESOURCE_IN_USE",
                    "The channel you tried to delete has origin endpoints attached to it. If you want to delete \
                     this channel, you must first delete the origin endpoints attached to it",
                ));
            }
            group.channels.remove(c);
        }
        Ok(json!({}))
    }

    pub(super) fn channel_json(&self, g: &str, c: &Channel) -> Value {
        let mut value = meta_json(&c.meta);
        value["ChannelGroupName"] = json!(g);
        value["ChannelName"] = json!(c.name);
        value["InputType"] = json!(c.input_type);
        value["IngestEndpoints"] =
            json!(["1", "2"].map(|id| json!({"Id": id, "Url": self.ingest_url(g, c.name.as_str(), id)})));
        value["InputSwitchConfiguration"] = c.input_switch.clone().unwrap_or(Value::Null);
        value["OutputHeaderConfiguration"] = c.output_header.clone().unwrap_or(Value::Null);
        value
    }

    /// Ingest endpoint `id` ("1" or "2") of a channel, in AWS's path layout
    /// (`/in/v1/{ChannelGroupName}/{1|2}/{ChannelName}/index`).
    pub fn ingest_url(&self, group: &str, channel: &str, id: &str) -> String {
        format!("{}/in/v1/{group}/{id}/{channel}/index", self.inner.config.public_url())
    }
}

pub(super) fn channel<'a>(state: &'a State, g: &str, c: &str) -> ApiResult<&'a Channel> {
    group(state, g)?.channels.get(c).ok_or_else(|| not_found("CHANNEL"))
}

pub(super) fn channel_mut<'a>(state: &'a mut State, g: &str, c: &str) -> ApiResult<&'a mut Channel> {
    group_mut(state, g)?
        .channels
        .get_mut(c)
        .ok_or_else(|| not_found("CHANNEL"))
}

impl MediaPackageV2 {
    /// Whether channel group `g` holds channel `c` (MediaLive's MediaPackage output groups name one).
    pub fn channel_exists(&self, g: &str, c: &str) -> bool {
        channel(&self.inner.state.lock().unwrap(), g, c).is_ok()
    }
}
