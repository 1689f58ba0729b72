//! What every resource has (ARN, description, creation and modification times, ETag, tags):
//! how a create makes it, how an update changes it (refused on a stale ETag) and how answers
//! describe it.

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

use super::{State, Tags, errors::conflict};
use crate::protocol::{ApiRequest, ApiResult};

/// What every resource has.
pub(super) struct Meta {
    pub(super) arn: String,
    description: Option<String>,
    created_at: f64,
    modified_at: f64,
    etag: String,
    pub(super) tags: Tags,
}

fn now() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// A new entity tag: opaque, different from every earlier one.
pub(super) fn next_etag(state: &mut State) -> String {
    state.etags += 1;
    let digest = sha2::Sha256::digest(format!("{}:{}", state.etags, jiff::Timestamp::now()));
    base64::engine::general_purpose::STANDARD.encode(digest)
}

pub(super) fn new_meta(state: &mut State, arn: String, body: &Value, tags: Tags) -> Meta {
    let at = now();
    Meta {
        arn,
        description: body["Description"].as_str().map(str::to_owned),
        created_at: at,
        modified_at: at,
        etag: next_etag(state),
        tags,
    }
}

/// An update: refused when its `x-amzn-update-if-match` is not the resource's ETag (AWS: "If
/// the specified ETag does not match the resource's current entity tag, the update request will
/// be rejected"); otherwise the description is replaced and the resource gets `etag`.
pub(super) fn updated(meta: &mut Meta, req: &ApiRequest, body: &Value, etag: String) -> ApiResult<()> {
    if let Some(expected) = req.header("x-amzn-update-if-match")
        && expected != meta.etag
    {
        return Err(conflict(
            "CONFLICTING_OPERATION",
            format!(
                "The ETag {expected} doesn't match the resource's current ETag {}: it was changed after you read \
                 it. Get it again and retry your update",
                meta.etag
            ),
        ));
    }
    meta.description = body["Description"].as_str().map(str::to_owned);
    meta.modified_at = now().max(meta.modified_at);
    meta.etag = etag;
    Ok(())
}

impl Meta {
    pub(super) fn etag(&self) -> &str {
        &self.etag
    }

    /// A change by the service itself (a harvest job's status): a new modification time.
    pub(super) fn touch(&mut self) {
        self.modified_at = now().max(self.modified_at);
    }
}

pub(super) fn meta_json(meta: &Meta) -> Value {
    json!({
        "Arn": meta.arn, "CreatedAt": meta.created_at, "ModifiedAt": meta.modified_at, "ETag": meta.etag,
        "Description": meta.description, "Tags": meta.tags,
    })
}
