//! Inputs of every type the service model offers: CREATING → DETACHED ↔ ATTACHED → DELETING →
//! DELETED. An RTMP push input has its own RTMP port on the loopback address (its destinations are
//! `app/instance` stream names on it); a pull input keeps its sources, which a running channel's
//! ffmpeg reads; the other types are described back as sent (see `input_kinds`).

use std::time::Instant;

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::input_kinds::{self, Family};
use super::{DELETED_RETENTION, MediaLive, State, Tags, tags_member};
use crate::{
    config::Delays,
    lifecycle::Lifecycle,
    protocol::{ApiError, ApiResult, parse_body},
    protocol::{ApiRequest, json_response, page_response},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Creating,
    Ready,
    Deleting,
    Deleted,
}

pub struct Input {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// The model's `InputType`, as sent.
    pub input_type: String,
    /// The RTMP listeners of an RTMP push input, one per destination (on AWS each destination
    /// has its own IP address, one per pipeline; here each has its own port on the loopback).
    pub ports: Vec<u16>,
    /// `app/instance` stream names, one per destination (RTMP push).
    pub stream_names: Vec<String>,
    /// RTP / UDP / SRT listener push: how many destinations (pipelines) the input offers.
    pub push_legs: usize,
    /// SRT listener: a loopback UDP port per destination, kept for the input's life.
    pub srt_ports: Vec<u16>,
    /// Created with `vpc` (counted by the VPC push inputs quota).
    pub vpc: bool,
    /// Sources, flows, devices, SRT and multicast settings… described back as sent.
    pub members: serde_json::Map<String, Value>,
    pub security_groups: Vec<String>,
    pub role_arn: Option<String>,
    pub tags: Tags,
    pub lifecycle: Lifecycle<Phase>,
}

impl Input {
    /// STANDARD with two sources or destinations (one per pipeline), else SINGLE_PIPELINE.
    pub fn input_class(&self) -> &'static str {
        let push = self.stream_names.len().max(self.push_legs);
        input_kinds::input_class(&self.input_type, &self.members, push)
    }

    /// The URL of the first source of a pull input ffmpeg can read.
    pub fn pull_url(&self) -> Option<String> {
        if !input_kinds::ffmpeg_pulls(&self.input_type) {
            return None;
        }
        let first = self.members.get("sources")?.as_array()?.first()?;
        first["url"].as_str().map(str::to_owned)
    }

    /// Not deleting or deleted.
    pub fn is_live(&self) -> bool {
        matches!(self.lifecycle.now(), Phase::Creating | Phase::Ready)
    }

    pub fn gone(&self, now: Instant) -> bool {
        self.lifecycle.at(now) == Phase::Deleted
            && self
                .lifecycle
                .entered_at(now)
                .is_some_and(|t| now.duration_since(t) >= DELETED_RETENTION)
    }
}

/// `destinations: [{streamName}]`: one or two names (one per pipeline). AWS takes a name without
/// an application part too: a public deployment's notes report `StreamName: stream-<id>` giving
/// `rtmp://ip:1935/stream-<id>` ("PLAYHUB Live Streaming Infrastructure Design", found by code
/// search). No AWS answer to an empty name or to more than two destinations was found: those are
/// kept refused (an empty name cannot be published to).
fn stream_names(body: &Value) -> ApiResult<Vec<String>> {
    let destinations = body["destinations"].as_array().cloned().unwrap_or_default();
    if destinations.is_empty() || destinations.len() > 2 {
        return Err(ApiError::bad_request("RTMP_PUSH inputs need one or two destinations"));
    }
    destinations
        .iter()
        .map(|d| match d["streamName"].as_str().map(|n| n.trim_matches('/')) {
            Some(name) if !name.is_empty() => Ok(name.to_owned()),
            _ => Err(ApiError::bad_request("Invalid destination streamName \"\"")),
        })
        .collect()
}

/// The number of `destinations` sent (one per pipeline, at most two), if any were.
fn srt_legs(body: &Value) -> Option<usize> {
    body["destinations"].as_array().map(|d| d.len().clamp(1, 2))
}

fn security_group_ids(state: &State, body: &Value, input_type: &str) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = serde_json::from_value(body["inputSecurityGroups"].clone()).unwrap_or_default();
    if ids.is_empty() && input_kinds::needs_security_group(input_type, body) {
        return Err(ApiError::bad_request(format!(
            "{input_type} inputs need an input security group"
        )));
    }
    if let Some(missing) = ids.iter().find(|id| !state.groups.contains_key(*id)) {
        return Err(ApiError::bad_request(format!(
            "Input security group {missing} not found"
        )));
    }
    Ok(ids)
}

impl MediaLive {
    fn input_json(&self, state: &mut State, id: &str) -> Value {
        let attached: Vec<String> = state.attached_channel(id).map(|c| c.id.clone()).into_iter().collect();
        let input = state.inputs.get_mut(id).expect("caller checked");
        let phase = input.lifecycle.now();
        let host = &self.inner.config.public_host;
        let state_name = match phase {
            Phase::Creating => "CREATING",
            Phase::Ready if attached.is_empty() => "DETACHED",
            Phase::Ready => "ATTACHED",
            Phase::Deleting => "DELETING",
            Phase::Deleted => "DELETED",
        };
        let srt = input
            .srt_ports
            .iter()
            .map(|port| json!({"ip": "127.0.0.1", "port": port.to_string(), "url": format!("srt://127.0.0.1:{port}")}));
        let destinations: Vec<Value> = match input.ports.is_empty() {
            true if input.input_type == "SRT_LISTENER" => srt.collect(),
            false => (input.stream_names.iter().zip(&input.ports))
                .map(
                    |(name, port)| json!({"ip": host, "port": port.to_string(), "url": format!("rtmp://{host}:{port}/{name}")}),
                )
                .collect(),
            // RTP / UDP push: described, not listened on (a channel with one raises an alert).
            true => {
                let scheme = if input.input_type == "UDP_PUSH" { "udp" } else { "rtp" };
                (0..input.push_legs)
                    .map(|n| {
                        let port = 5000 + n;
                        json!({"ip": host, "port": port.to_string(), "url": format!("{scheme}://{host}:{port}")})
                    })
                    .collect()
            }
        };
        let mut value = json!({
            "arn": input.arn,
            "id": input.id,
            "name": input.name,
            "state": state_name,
            "type": input.input_type,
            "inputClass": input.input_class(),
            "inputSourceType": input_kinds::source_type(&input.input_type, &input.members),
            "destinations": destinations,
            "securityGroups": input.security_groups,
            "attachedChannels": attached,
            "sources": [], "mediaConnectFlows": [], "inputDevices": [], "inputPartnerIds": [],
            "tags": input.tags,
        });
        for (key, member) in &input.members {
            value[key] = member.clone();
        }
        if let Some(role) = &input.role_arn {
            value["roleArn"] = json!(role);
        }
        value
    }

    pub(super) async fn create_input(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        // The model has checked the enum; no type at all has no documented default (kept a 400).
        let Some(input_type) = body["type"].as_str().map(str::to_owned) else {
            return Err(ApiError::bad_request("type is required"));
        };
        let rtmp_push = input_type == "RTMP_PUSH";
        let names = if rtmp_push { stream_names(&body)? } else { Vec::new() };
        let members = input_kinds::as_sent(&body);
        if let Some(message) = input_kinds::source_url_error(&input_type, &members) {
            return Err(ApiError::bad_request(message));
        }
        if let Some(refused) = super::srt::refusal(&input_type, &members) {
            return Err(refused);
        }
        let push_legs = match input_type.as_str() {
            "RTP_PUSH" | "UDP_PUSH" => body["destinations"].as_array().map_or(2, |d| d.len().clamp(1, 2)),
            // One destination per pipeline, as sent; none sent: one (a single-pipeline input).
            "SRT_LISTENER" => srt_legs(&body).unwrap_or(1),
            _ => 0,
        };
        let tags = tags_member(&body)?;
        let request = body["requestId"].as_str().map(str::to_owned);
        let (id, groups) = {
            let mut state = self.state();
            if let Some(existing) = request.as_ref().and_then(|r| state.requests.get(r)).cloned()
                && state.inputs.get(&existing).is_some_and(Input::is_live)
            {
                return Ok(json_response(
                    StatusCode::CREATED,
                    json!({ "input": self.input_json(&mut state, &existing) }),
                ));
            }
            let groups = security_group_ids(&state, &body, &input_type)?;
            self.check_input_quota(&state, &input_type, &body)?;
            (state.new_id(), groups)
        };
        // The listeners are bound before the input is visible, so its URLs are real from the start.
        let ports = self.open_legs(&id, 0, names.len()).await?;
        let srt_ports = match input_type.as_str() {
            "SRT_LISTENER" => super::srt::free_ports(push_legs)?,
            _ => Vec::new(),
        };
        let mut state = self.state();
        let input = Input {
            id: id.clone(),
            arn: self.inner.config.arn("medialive", "input", &id),
            name: body["name"].as_str().unwrap_or_default().to_owned(),
            input_type,
            ports,
            stream_names: names,
            push_legs,
            srt_ports,
            vpc: !body["vpc"].is_null(),
            members,
            security_groups: groups,
            role_arn: body["roleArn"].as_str().map(str::to_owned),
            tags,
            lifecycle: Lifecycle::transition(
                Phase::Creating,
                Phase::Ready,
                Delays::of(self.inner.config.delays.input_create_ms),
            ),
        };
        state.inputs.insert(id.clone(), input);
        if let Some(request) = request {
            state.requests.insert(request, id.clone());
        }
        Ok(json_response(
            StatusCode::CREATED,
            json!({ "input": self.input_json(&mut state, &id) }),
        ))
    }

    /// "Inputs of type push" and "Inputs of type pull" quotas (VPC push inputs have their own).
    fn check_input_quota(&self, state: &State, input_type: &str, body: &Value) -> ApiResult<()> {
        let quotas = self.inner.config.medialive_quotas;
        let vpc = !body["vpc"].is_null();
        let (quota, what) = match (input_kinds::family(input_type), vpc) {
            (Family::Push, true) => (quotas.vpc_push_inputs, "VPC push inputs"),
            (Family::Push, false) => (quotas.push_inputs, "push inputs"),
            (Family::Pull, _) => (quotas.pull_inputs, "pull inputs"),
            (Family::Other, _) => return Ok(()),
        };
        let family = input_kinds::family(input_type);
        let used = (state.inputs.values())
            .filter(|i| i.is_live() && input_kinds::family(&i.input_type) == family)
            .filter(|i| family != Family::Push || i.vpc == vpc)
            .count();
        if used >= quota {
            return Err(super::quotas::exceeded(what, quota));
        }
        Ok(())
    }

    pub(super) fn list_inputs(&self, req: &ApiRequest) -> ApiResult<Response> {
        let (max, token) = req.page()?;
        let mut state = self.state();
        let ids: Vec<String> = state.inputs.keys().cloned().collect();
        let all = ids
            .into_iter()
            .map(|id| (id.clone(), self.input_json(&mut state, &id)))
            .collect();
        Ok(page_response("inputs", all, max, token.as_deref()))
    }

    pub(super) fn describe_input(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.state();
        if !state.inputs.contains_key(id) {
            return Err(not_found(id));
        }
        Ok(json_response(StatusCode::OK, self.input_json(&mut state, id)))
    }

    /// Opens the RTMP listeners of destinations `from..to` of an input.
    async fn open_legs(&self, id: &str, from: usize, to: usize) -> ApiResult<Vec<u16>> {
        let mut ports = Vec::new();
        for leg in from..to {
            let gate = std::sync::Arc::new(self.clone());
            let port = (self.inner.media)
                .open_input_leg(id, leg, self.inner.config.rtmp_port, gate)
                .await
                .map_err(|e| ApiError::internal(format!("cannot open an RTMP port: {e}")))?;
            ports.push(port);
        }
        Ok(ports)
    }

    /// UpdateInput: the number of an RTMP push input's destinations may change (its class follows
    /// the count: neither CreateInput nor UpdateInput has an InputClass member); listeners are
    /// opened for new destinations and closed for removed ones.
    pub(super) async fn update_input(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = req.segments[2].clone();
        let body: Value = parse_body(&req.body)?;
        let response = self.update_input_state(&id, &body)?;
        let (had, wanted) = {
            let state = self.state();
            let input = &state.inputs[&id];
            (
                input.ports.len(),
                if input.input_type == "RTMP_PUSH" {
                    input.stream_names.len()
                } else {
                    0
                },
            )
        };
        if wanted > had {
            let more = self.open_legs(&id, had, wanted).await?;
            if let Some(input) = self.state().inputs.get_mut(&id) {
                input.ports.extend(more);
            }
        } else if wanted < had {
            self.inner.media.close_input_legs(&id, wanted);
            if let Some(input) = self.state().inputs.get_mut(&id) {
                input.ports.truncate(wanted);
            }
        } else {
            return Ok(response);
        }
        let mut state = self.state();
        Ok(json_response(
            StatusCode::OK,
            json!({ "input": self.input_json(&mut state, &id) }),
        ))
    }

    fn update_input_state(&self, id: &str, body: &Value) -> ApiResult<Response> {
        let id = id.to_owned();
        let mut state = self.state();
        if !state.inputs.contains_key(&id) {
            return Err(not_found(&id));
        }
        // No public AWS answer found for updating an input whose channel runs (kept: a running
        // channel's input cannot change under it here).
        if let Some(channel) = state.attached_channel(&id)
            && channel.state() != super::ChannelState::Idle
        {
            let (channel, now) = (channel.id.clone(), channel.state());
            return Err(ApiError::conflict(format!(
                "Input {id} is attached to channel {channel} which is {now:?}; stop the channel first"
            )));
        }
        let input_type = state.inputs[&id].input_type.clone();
        let names = if body["destinations"].is_null() || input_type != "RTMP_PUSH" {
            None
        } else {
            Some(stream_names(body)?)
        };
        let groups = if body["inputSecurityGroups"].is_null() {
            None
        } else {
            Some(security_group_ids(&state, body, &input_type)?)
        };
        let members = input_kinds::as_sent(body);
        let mut merged = state.inputs[&id].members.clone();
        merged.extend(members);
        if let Some(message) = input_kinds::source_url_error(&input_type, &merged) {
            return Err(ApiError::bad_request(message));
        }
        if let Some(refused) = super::srt::refusal(&input_type, &merged) {
            return Err(refused);
        }
        let input = state.inputs.get_mut(&id).expect("checked");
        if !input.is_live() {
            return Err(ApiError::conflict(format!("Input {id} is being deleted")));
        }
        if let Some(legs) = srt_legs(body).filter(|_| input_type == "SRT_LISTENER") {
            let kept = input.srt_ports.len().min(legs);
            input.srt_ports.truncate(kept);
            input.srt_ports.extend(super::srt::free_ports(legs - kept)?);
            input.push_legs = legs;
        }
        if let Some(names) = names {
            input.stream_names = names;
        }
        if let Some(groups) = groups {
            input.security_groups = groups;
        }
        input.members = merged;
        if let Some(name) = body["name"].as_str() {
            input.name = name.to_owned();
        }
        Ok(json_response(
            StatusCode::OK,
            json!({ "input": self.input_json(&mut state, &id) }),
        ))
    }

    pub(super) fn delete_input(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.state();
        if !state.inputs.contains_key(id) {
            return Err(not_found(id));
        }
        // An attached input is not deleted (the model's DeleteInput ConflictException "Resource
        // conflict"; teardown deletes the channel first).
        if let Some(channel) = state.attached_channel(id) {
            return Err(ApiError::conflict(format!(
                "Input {id} is attached to channel {}; delete the channel first",
                channel.id
            )));
        }
        let input = state.inputs.get_mut(id).expect("checked");
        if !input.is_live() {
            return Err(ApiError::conflict(format!("Input {id} is already being deleted")));
        }
        input.lifecycle.begin(
            Phase::Deleting,
            Phase::Deleted,
            Delays::of(self.inner.config.delays.input_delete_ms),
        );
        self.inner.media.close_input(id);
        Ok(json_response(StatusCode::OK, json!({})))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Input {id} not found"))
}
