//! Channel groups: create (unique per account and Region, within the quota), update (ETag
//! checked), delete (only when no channel is left), and how GetChannelGroup describes one.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    MediaPackageV2, State,
    channels::Channel,
    client_tokens::{remember, replayed},
    errors::{conflict, not_found, quota_exceeded},
    member_str,
    meta::{Meta, meta_json, new_meta, next_etag, updated},
    tags::tags_of,
};
use crate::protocol::{ApiRequest, ApiResult};

pub(super) struct Group {
    pub(super) name: String,
    pub(super) meta: Meta,
    pub(super) channels: BTreeMap<String, Channel>,
}

impl MediaPackageV2 {
    pub(super) fn create_group(&self, req: &ApiRequest, body: &Value) -> ApiResult<Value> {
        let name = member_str(body, "ChannelGroupName");
        let mut state = self.inner.state.lock().unwrap();
        let retried = replayed(&state, "CreateChannelGroup", req, body)?;
        if let Some(existing) = state.groups.get(&name) {
            if retried {
                return Ok(self.group_json(existing));
            }
            return Err(conflict(
                "RESOURCE_ALREADY_EXISTS",
                format!("A channel group named {name} already exists in this account and Region"),
            ));
        }
        let quota = self.quotas().channel_groups;
        if state.groups.len() >= quota {
            return Err(quota_exceeded(format!(
                "You've reached the quota of {quota} channel groups in this account and Region"
            )));
        }
        let arn = self.arn(&format!("channelGroup/{name}"));
        let meta = new_meta(&mut state, arn, body, tags_of(body, "tags"));
        let group = Group {
            name: name.clone(),
            meta,
            channels: BTreeMap::new(),
        };
        let value = self.group_json(&group);
        state.groups.insert(name, group);
        remember(&mut state, "CreateChannelGroup", req, body);
        Ok(value)
    }

    pub(super) fn update_group(&self, req: &ApiRequest, body: &Value, g: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        let etag = next_etag(&mut state);
        let group = group_mut(&mut state, g)?;
        updated(&mut group.meta, req, body, etag)?;
        Ok(self.group_json(group))
    }

    pub(super) fn delete_group(&self, g: &str) -> ApiResult<Value> {
        let mut state = self.inner.state.lock().unwrap();
        if let Some(group) = state.groups.get(g) {
            if !group.channels.is_empty() {
                return Err(conflict(
                    "RESOURCE_IN_USE",
                    "The channel group you tried to delete has channels attached to it. If you want to delete \
                     this channel group, you must first delete the channels attached to it",
                ));
            }
            state.groups.remove(g);
        }
        Ok(json!({}))
    }

    pub(super) fn group_json(&self, g: &Group) -> Value {
        let mut value = meta_json(&g.meta);
        value["ChannelGroupName"] = json!(g.name);
        value["EgressDomain"] = json!(self.inner.config.public_authority());
        value
    }
}

pub(super) fn group<'a>(state: &'a State, g: &str) -> ApiResult<&'a Group> {
    state.groups.get(g).ok_or_else(|| not_found("CHANNEL_GROUP"))
}

pub(super) fn group_mut<'a>(state: &'a mut State, g: &str) -> ApiResult<&'a mut Group> {
    state.groups.get_mut(g).ok_or_else(|| not_found("CHANNEL_GROUP"))
}
