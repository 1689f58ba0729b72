//! Origin access controls: create (names unique in the account), get, get config, update and
//! delete with the ETag as `If-Match`, list. One that an origin of a distribution names cannot be
//! deleted (`OriginAccessControlInUse`).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{CloudFront, Oac, api::Reply, distributions::max_items, errors, errors::error, new_id};
use crate::protocol::ApiError;

// AWS's words in https://github.com/winglang/wing/issues/3748 (409, names unique in the account).
fn already_exists() -> ApiError {
    error(
        409,
        "OriginAccessControlAlreadyExists",
        "An origin access control with the same name already exists.",
    )
}

impl CloudFront {
    pub(super) fn call_oac(
        &self,
        operation: &str,
        id: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Result<Reply, ApiError> {
        let mut state = self.inner.state.lock().unwrap();
        match operation {
            "CreateOriginAccessControl" => {
                let config = with_description(&body["OriginAccessControlConfig"]);
                if state.oacs.values().any(|o| o.config["Name"] == config["Name"]) {
                    return Err(already_exists());
                }
                // The modeled error's own words (TooManyOriginAccessControls).
                if state.oacs.len() >= self.inner.config.cloudfront_quotas.origin_access_controls {
                    return Err(error(
                        400,
                        "TooManyOriginAccessControls",
                        "The number of origin access controls in your Amazon Web Services account exceeds the maximum allowed.",
                    ));
                }
                let oac = Oac {
                    id: new_id(),
                    config,
                    etag: new_id(),
                };
                let mut reply = Reply::ok(describe(&oac)).with_etag(&oac.etag);
                reply.status = StatusCode::CREATED;
                reply.location = Some(format!(
                    "https://cloudfront.amazonaws.com/2020-05-31/origin-access-control/{}",
                    oac.id
                ));
                state.oacs.insert(oac.id.clone(), oac);
                Ok(reply)
            }
            "GetOriginAccessControl" => {
                let oac = state.oacs.get(id).ok_or_else(errors::no_such_oac)?;
                Ok(Reply::ok(describe(oac)).with_etag(&oac.etag))
            }
            "GetOriginAccessControlConfig" => {
                let oac = state.oacs.get(id).ok_or_else(errors::no_such_oac)?;
                Ok(Reply::ok(oac.config.clone()).with_etag(&oac.etag))
            }
            "UpdateOriginAccessControl" => {
                let config = with_description(&body["OriginAccessControlConfig"]);
                let taken = (state.oacs.values()).any(|o| o.id != id && o.config["Name"] == config["Name"]);
                let oac = state.oacs.get_mut(id).ok_or_else(errors::no_such_oac)?;
                errors::check_if_match(&oac.etag, if_match)?;
                if taken {
                    return Err(already_exists());
                }
                // (A changed OriginAccessControlOriginType was refused here: no public source found,
                // so removed, audited 2026-12.)
                oac.config = config;
                oac.etag = new_id();
                Ok(Reply::ok(describe(oac)).with_etag(&oac.etag))
            }
            "DeleteOriginAccessControl" => {
                let oac = state.oacs.get(id).ok_or_else(errors::no_such_oac)?;
                errors::check_if_match(&oac.etag, if_match)?;
                let in_use = state.distributions.values().any(|d| {
                    (d.config["Origins"]["Items"].as_array().into_iter().flatten())
                        .any(|o| o["OriginAccessControlId"] == id)
                });
                // The modeled error's own words (OriginAccessControlInUse).
                if in_use {
                    return Err(error(
                        409,
                        "OriginAccessControlInUse",
                        "Cannot delete the origin access control because it's in use by one or more distributions.",
                    ));
                }
                state.oacs.remove(id);
                Ok(Reply::no_content())
            }
            _ => Err(error(
                400,
                "InvalidAction",
                format!("livestream-local does not serve {operation}"),
            )),
        }
    }

    pub(super) fn list_oac_page(&self, req: &crate::protocol::ApiRequest) -> Result<Reply, ApiError> {
        let max = max_items(req)?;
        let marker = req.query_one("Marker").unwrap_or_default();
        let state = self.inner.state.lock().unwrap();
        let after: Vec<&Oac> = (state.oacs.values())
            .filter(|o| marker.is_empty() || o.id.as_str() > marker)
            .collect();
        let page: Vec<Value> = after
            .iter()
            .take(max)
            .map(|o| {
                let mut summary = o.config.clone();
                summary["Id"] = json!(o.id);
                summary
            })
            .collect();
        let truncated = after.len() > max;
        let mut list =
            json!({"Marker": marker, "MaxItems": max, "IsTruncated": truncated, "Quantity": page.len(), "Items": page});
        if truncated {
            list["NextMarker"] = json!(after[max - 1].id);
        }
        Ok(Reply::ok(list))
    }
}

/// The config as kept: `Description` is always there (the summary requires it).
fn with_description(config: &Value) -> Value {
    let mut config = config.clone();
    if config.get("Description").is_none_or(Value::is_null) {
        config["Description"] = json!("");
    }
    config
}

fn describe(oac: &Oac) -> Value {
    json!({"Id": oac.id, "OriginAccessControlConfig": oac.config})
}
