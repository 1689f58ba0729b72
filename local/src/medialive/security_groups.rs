//! Input security groups: the CIDR allow-list of RTMP publishers.

use axum::{http::StatusCode, response::Response};
use ipnet::IpNet;
use serde_json::{Value, json};

use super::{MediaLive, State, Tags, tags_member};
use crate::{
    protocol::{ApiError, ApiResult, parse_body},
    protocol::{ApiRequest, json_response, page_response},
};

pub struct SecurityGroup {
    pub id: String,
    pub arn: String,
    pub cidrs: Vec<IpNet>,
    pub tags: Tags,
}

impl SecurityGroup {
    pub fn allows(&self, peer: std::net::IpAddr) -> bool {
        let peer = match peer {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(Into::into).unwrap_or(peer),
            v4 => v4,
        };
        self.cidrs.iter().any(|net| net.contains(&peer))
    }
}

/// `whitelistRules: [{cidr}]`, each a valid CIDR block (the model: "List of IPv4 CIDR addresses to
/// whitelist"). The wording of the refusal of a malformed CIDR is ours: AWS's was not found.
fn whitelist_rules(body: &Value) -> ApiResult<Vec<IpNet>> {
    let rules = body["whitelistRules"].as_array().cloned().unwrap_or_default();
    rules
        .iter()
        .map(|rule| {
            let cidr = rule["cidr"].as_str().unwrap_or_default();
            cidr.parse::<IpNet>()
                .map_err(|_| ApiError::bad_request(format!("Invalid CIDR block in whitelistRules: {cidr:?}")))
        })
        .collect()
}

fn to_json(state: &mut State, group: &str) -> Value {
    let inputs: Vec<String> = state
        .inputs
        .values_mut()
        .filter(|i| i.is_live() && i.security_groups.iter().any(|g| g == group))
        .map(|i| i.id.clone())
        .collect();
    let g = &state.groups[group];
    json!({
        "arn": g.arn,
        "id": g.id,
        "inputs": inputs,
        "state": if inputs.is_empty() { "IDLE" } else { "IN_USE" },
        "tags": g.tags,
        "whitelistRules": g.cidrs.iter().map(|c| json!({"cidr": c.to_string()})).collect::<Vec<_>>(),
    })
}

impl MediaLive {
    pub(super) fn create_security_group(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let cidrs = whitelist_rules(&body)?;
        // AWS's 400 to a group without rules, quoted in
        // https://github.com/awsdocs/aws-cloudformation-user-guide/pull/461 (the model sets no minimum).
        if cidrs.is_empty() {
            return Err(ApiError::bad_request("Must specify at least one whitelist"));
        }
        let tags = tags_member(&body)?;
        let mut state = self.state();
        let quota = self.inner.config.medialive_quotas.input_security_groups;
        if state.groups.len() >= quota {
            return Err(super::quotas::exceeded("input security groups", quota));
        }
        let id = state.new_id();
        let arn = self.inner.config.arn("medialive", "inputSecurityGroup", &id);
        state.groups.insert(
            id.clone(),
            SecurityGroup {
                id: id.clone(),
                arn,
                cidrs,
                tags,
            },
        );
        Ok(json_response(
            StatusCode::OK,
            json!({ "securityGroup": to_json(&mut state, &id) }),
        ))
    }

    pub(super) fn list_security_groups(&self, req: &ApiRequest) -> ApiResult<Response> {
        let (max, token) = req.page()?;
        let mut state = self.state();
        let ids: Vec<String> = state.groups.keys().cloned().collect();
        let all = ids
            .into_iter()
            .map(|id| (id.clone(), to_json(&mut state, &id)))
            .collect();
        Ok(page_response("inputSecurityGroups", all, max, token.as_deref()))
    }

    pub(super) fn describe_security_group(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.state();
        if !state.groups.contains_key(id) {
            return Err(not_found(id));
        }
        Ok(json_response(StatusCode::OK, to_json(&mut state, id)))
    }

    pub(super) fn update_security_group(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = &req.segments[2];
        let body: Value = parse_body(&req.body)?;
        // Rules left out of an update are kept (an update with an empty list: no public answer
        // found, accepted).
        let cidrs = (!body["whitelistRules"].is_null())
            .then(|| whitelist_rules(&body))
            .transpose()?;
        let mut state = self.state();
        let group = state.groups.get_mut(id.as_str()).ok_or_else(|| not_found(id))?;
        if let Some(cidrs) = cidrs {
            group.cidrs = cidrs;
        }
        if !body["tags"].is_null() {
            group.tags = tags_member(&body)?;
        }
        Ok(json_response(
            StatusCode::OK,
            json!({ "securityGroup": to_json(&mut state, id) }),
        ))
    }

    pub(super) fn delete_security_group(&self, id: &str) -> ApiResult<Response> {
        let mut state = self.state();
        if !state.groups.contains_key(id) {
            return Err(not_found(id));
        }
        // "Cannot delete in-use input security group" (user guide, channel security groups rules:
        // https://docs.aws.amazon.com/medialive/latest/ug/channel-security-groups-rules.html);
        // the model's only refusal for DeleteInputSecurityGroup is BadRequestException.
        let users = to_json(&mut state, id)["inputs"].clone();
        if users.as_array().is_some_and(|u| !u.is_empty()) {
            return Err(ApiError::bad_request(format!(
                "Input security group {id} is still being used by inputs {users}; delete or update them first"
            )));
        }
        state.groups.remove(id);
        Ok(json_response(StatusCode::OK, json!({})))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Input security group {id} not found"))
}
