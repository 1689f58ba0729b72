//! TagResource, UntagResource and ListTagsForResource on the resource an ARN names, and the
//! tags a create carries.

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::{MediaPackageV2, State, Tags, channels::channel_mut, errors::validation};
use crate::{
    protocol::{ApiError, ApiResult},
    protocol::{ApiRequest, empty_response, json_response},
};

impl MediaPackageV2 {
    pub(super) fn tags(&self, operation: &str, req: &ApiRequest, body: &Value, arn: &str) -> ApiResult<Response> {
        let mut state = self.inner.state.lock().unwrap();
        let (region, account) = (&self.inner.config.region, &self.inner.config.account_id);
        let tags = tagged(&mut state, arn, region, account)?;
        match operation {
            "TagResource" => {
                tags.extend(tags_of(body, "tags"));
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            "UntagResource" => {
                for key in req.query.get("tagKeys").into_iter().flatten() {
                    tags.remove(key);
                }
                Ok(empty_response(StatusCode::NO_CONTENT))
            }
            _ => {
                let value = self.inner.model.output(operation, &json!({ "Tags": tags }));
                Ok(json_response(StatusCode::OK, value))
            }
        }
    }
}

/// The tags of the resource an ARN names. Tagging declares only `ValidationException`: an ARN
/// that is not a MediaPackage v2 resource's is `INVALID_ARN`, one of no resource plain.
fn tagged<'a>(state: &'a mut State, arn: &str, region: &str, account: &str) -> ApiResult<&'a mut Tags> {
    let invalid = || {
        validation(
            "INVALID_ARN",
            format!("{arn} is not a valid MediaPackage v2 resource ARN"),
        )
    };
    let prefix = "arn:aws:mediapackagev2:";
    let (arn_region, rest) = arn
        .strip_prefix(prefix)
        .and_then(|r| r.split_once(':'))
        .ok_or_else(invalid)?;
    let (arn_account, resource) = rest.split_once(':').ok_or_else(invalid)?;
    let parts: Vec<&str> = resource.split('/').collect();
    let missing = || {
        ApiError::shaped(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            format!("No MediaPackage v2 resource has the ARN {arn}"),
            &[],
        )
    };
    if (arn_region, arn_account) != (region, account) {
        return Err(missing());
    }
    let meta = match parts.as_slice() {
        ["channelGroup", g] => state.groups.get_mut(*g).map(|g| &mut g.meta),
        ["channelGroup", g, "channel", c] => channel_mut(state, g, c).ok().map(|c| &mut c.meta),
        ["channelGroup", g, "channel", c, "originEndpoint", e] => channel_mut(state, g, c)
            .ok()
            .and_then(|c| c.endpoints.get_mut(*e))
            .map(|e| &mut e.meta),
        _ => return Err(invalid()),
    };
    meta.map(|m| &mut m.tags).ok_or_else(missing)
}

pub(super) fn tags_of(body: &Value, member: &str) -> Tags {
    serde_json::from_value(body[member].clone()).unwrap_or_default()
}
