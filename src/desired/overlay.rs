//! `spec.encoding.overrides` onto the rendered CreateChannel request, the request in MediaLive's
//! wire names and back, and drift: what was asked, next to what MediaLive describes.
//!
//! The request is kept in the names `aws medialive create-channel --cli-input-json` takes
//! (`EncoderSettings`); MediaLive's REST API spells every member with a lower-case first letter
//! (`encoderSettings`) — in every shape a channel has, as botocore's model says member by member
//! (`locationName`), maps aside: the request's only map, `Tags`, is added on the wire.

use serde_json::{Map, Value};

use crate::api::ChannelOverrides;

mod members;
pub use members::unknown_member;

/// `spec.encoding.overrides`, ready to apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    merge: Option<Value>,
    patch: Vec<json_patch::PatchOperation>,
}

impl Overlay {
    pub fn of(overrides: Option<&ChannelOverrides>) -> Result<Self, String> {
        let Some(overrides) = overrides else {
            return Ok(Self::default());
        };
        let merge = (overrides.merge.as_ref())
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| format!("spec.encoding.overrides.merge: {e}"))?;
        let patch = (overrides.patch.iter().enumerate())
            .map(|(n, op)| {
                let value = serde_json::to_value(op).map_err(|e| e.to_string());
                value
                    .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                    .map_err(|e| format!("spec.encoding.overrides.patch[{n}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { merge, patch })
    }

    pub fn is_empty(&self) -> bool {
        self.merge.is_none() && self.patch.is_empty()
    }

    /// Applies the merge patch, then each operation in turn; the error names the operation that
    /// does not apply (a path to nothing, a failed `test`), or a member MediaLive's model does not
    /// have, and leaves `request` unchanged.
    pub fn apply(&self, request: &mut Value) -> Result<(), String> {
        let mut patched = request.clone();
        if let Some(merge) = &self.merge {
            json_patch::merge(&mut patched, merge);
        }
        for (n, op) in self.patch.iter().enumerate() {
            json_patch::patch(&mut patched, std::slice::from_ref(op)).map_err(|e| {
                format!("spec.encoding.overrides.patch[{n}] does not apply to the channel's request: {e}")
            })?;
        }
        if let Some(unknown) = (!self.is_empty()).then(|| members::unknown_member(&patched)).flatten() {
            return Err(format!("spec.encoding.overrides: {unknown}"));
        }
        *request = patched;
        Ok(())
    }
}

/// `request` in MediaLive's wire names.
pub fn to_wire(request: &Value) -> Value {
    rename_keys(request, |first| first.to_ascii_lowercase())
}

/// A whole request in wire names, as its HTTP body: `Tags` is a map, so its keys stay as they are.
pub fn request_to_wire(request: &Value) -> Value {
    let mut wire = to_wire(request);
    if let Some(tags) = request.get("Tags") {
        wire["tags"] = tags.clone();
    }
    wire
}

/// A wire answer in the request's names (for members without maps: not `tags`).
pub fn from_wire(answer: &Value) -> Value {
    rename_keys(answer, |first| first.to_ascii_uppercase())
}

/// A request member's name on the wire (`EncoderSettings` → `encoderSettings`).
pub fn wire_name(member: &str) -> String {
    with_first(member, |c| c.to_ascii_lowercase())
}

fn with_first(name: &str, first: fn(char) -> char) -> String {
    let mut chars = name.chars();
    chars.next().map(first).into_iter().chain(chars).collect()
}

fn rename_keys(value: &Value, first: fn(char) -> char) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            (members.iter())
                .map(|(k, v)| (with_first(k, first), rename_keys(v, first)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_keys(v, first)).collect()),
        other => other.clone(),
    }
}

/// The first place (a JSON pointer) where `described` does not hold what `asked` asks, or `None`.
/// Members AWS fills with its defaults are no drift: only what was asked is compared. Numbers
/// compare by value (`2` and `2.0`), lists item by item and in length, and an empty object asked
/// for is held by a member AWS leaves out.
pub fn drift(asked: &Value, described: &Value) -> Option<String> {
    drift_at(asked, described, String::new())
}

fn drift_at(asked: &Value, described: &Value, at: String) -> Option<String> {
    match (asked, described) {
        (Value::Object(asked), Value::Object(described)) => asked.iter().find_map(|(k, v)| {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            match described.get(k) {
                Some(d) => drift_at(v, d, here),
                None if v.as_object().is_some_and(Map::is_empty) || v.is_null() => None,
                None => Some(here),
            }
        }),
        (Value::Array(asked), Value::Array(described)) if asked.len() == described.len() => (asked.iter())
            .zip(described)
            .enumerate()
            .find_map(|(n, (a, d))| drift_at(a, d, format!("{at}/{n}"))),
        (Value::Number(a), Value::Number(d)) if a.as_f64() == d.as_f64() => None,
        (a, d) if a == d => None,
        _ => Some(if at.is_empty() { "/".into() } else { at }),
    }
}

#[cfg(test)]
mod tests;
