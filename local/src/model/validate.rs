//! Checking a REST-JSON request against its operation's input shape: required members, JSON
//! types, enum values, numeric ranges, string and list lengths. MediaLive's model carries most
//! ranges only in shape names (`__integerMin32Max8191`, `__stringMin1Max255`), so those are read
//! too. Members the model does not know are ignored, as the services ignore them.

use std::{collections::HashMap, sync::LazyLock};

use regex::Regex;
use serde_json::Value;

use super::ServiceModel;

/// One thing wrong with a request, at a member path such as
/// `encoderSettings.videoDescriptions[1].height` (MediaLive's `elementPath`), and what
/// (`errorMessage`, without the path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
    /// The request does not even have the model's shape (missing required member, wrong JSON type):
    /// a 400. Otherwise a value is out of what the model allows: a 422 where the service says so.
    pub malformed: bool,
}

/// `__integerMinNegative60Max6` → (Some(-60), Some(6)).
static NAMED_BOUNDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^__(?:string|integer|long|double)(?:Min(Negative)?(\d+))?(?:Max(Negative)?(\d+))?").unwrap()
});

fn bounds(name: &str, shape: &Value) -> (Option<f64>, Option<f64>) {
    let explicit = (shape["min"].as_f64(), shape["max"].as_f64());
    if explicit != (None, None) {
        return explicit;
    }
    let Some(caps) = NAMED_BOUNDS.captures(name) else {
        return (None, None);
    };
    let number = |sign: usize, digits: usize| {
        let value: f64 = caps.get(digits)?.as_str().parse().ok()?;
        Some(if caps.get(sign).is_some() { -value } else { value })
    };
    (number(1, 2), number(3, 4))
}

impl ServiceModel {
    /// Everything wrong with a request for `operation`: its JSON body and query string.
    pub fn validate(&self, operation: &str, body: &Value, query: &HashMap<String, Vec<String>>) -> Vec<Violation> {
        let mut found = Vec::new();
        let Some(input) = self.input(operation) else {
            return found;
        };
        let members = input["members"].as_object().cloned().unwrap_or_default();
        let required: Vec<&str> = input["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (member, spec) in &members {
            let name = spec["locationName"].as_str().unwrap_or(member);
            let shape_name = spec["shape"].as_str().unwrap_or_default();
            match spec["location"].as_str() {
                Some("querystring") => {
                    if let Some(values) = query.get(name).filter(|v| !v.is_empty()) {
                        let value = query_value(self, shape_name, values);
                        self.check(shape_name, &value, name, &mut found);
                    }
                }
                // Path members are what routed the request; headers are the SDK's business.
                Some(_) => {}
                None => match body.get(name) {
                    Some(Value::Null) | None if required.contains(&member.as_str()) => found.push(Violation {
                        path: name.to_owned(),
                        message: "is required".into(),
                        malformed: true,
                    }),
                    Some(Value::Null) | None => {}
                    Some(value) => self.check(shape_name, value, name, &mut found),
                },
            }
        }
        found
    }

    /// What is wrong with the header and query-string members of a REST-XML request (S3: its XML
    /// body is parsed by s3s, generated from the same model); `header` looks a header up.
    pub fn validate_located(
        &self,
        operation: &str,
        header: &dyn Fn(&str) -> Option<String>,
        query: &HashMap<String, Vec<String>>,
    ) -> Vec<Violation> {
        let mut found = Vec::new();
        let Some(input) = self.input(operation) else {
            return found;
        };
        for (member, spec) in input["members"].as_object().into_iter().flatten() {
            let name = spec["locationName"].as_str().unwrap_or(member);
            let shape_name = spec["shape"].as_str().unwrap_or_default();
            let values = match spec["location"].as_str() {
                Some("querystring") => query.get(name).cloned().unwrap_or_default(),
                Some("header") => header(name).into_iter().collect(),
                _ => continue,
            };
            if !values.is_empty() {
                let value = query_value(self, shape_name, &values);
                self.check(shape_name, &value, name, &mut found);
            }
        }
        found
    }

    fn check(&self, shape_name: &str, value: &Value, path: &str, found: &mut Vec<Violation>) {
        let Some(shape) = self.shape(shape_name) else { return };
        let mut wrong = |message: String, malformed: bool| {
            found.push(Violation {
                path: path.to_owned(),
                message,
                malformed,
            })
        };
        let (min, max) = bounds(shape_name, shape);
        let out_of = |n: f64, what: &str| match (min, max) {
            (Some(min), _) if n < min => Some(format!("{what} at least {min} (got {n})")),
            (_, Some(max)) if n > max => Some(format!("{what} at most {max} (got {n})")),
            _ => None,
        };
        match shape["type"].as_str().unwrap_or_default() {
            "structure" => {
                let Some(object) = value.as_object() else {
                    return wrong("must be an object".into(), true);
                };
                let required: Vec<&str> = shape["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for (member, spec) in shape["members"].as_object().into_iter().flatten() {
                    let name = spec["locationName"].as_str().unwrap_or(member);
                    let child = format!("{path}.{name}");
                    match object.get(name) {
                        Some(Value::Null) | None if required.contains(&member.as_str()) => found.push(Violation {
                            message: "is required".into(),
                            path: child,
                            malformed: true,
                        }),
                        Some(Value::Null) | None => {}
                        Some(v) => self.check(spec["shape"].as_str().unwrap_or_default(), v, &child, found),
                    }
                }
            }
            "list" => {
                let Some(items) = value.as_array() else {
                    return wrong("must be a list".into(), true);
                };
                if let Some(message) = out_of(items.len() as f64, "must have") {
                    wrong(format!("{message} items"), false);
                }
                let member = shape["member"]["shape"].as_str().unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    self.check(member, item, &format!("{path}[{i}]"), found);
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else {
                    return wrong("must be a map".into(), true);
                };
                if let Some(message) = out_of(entries.len() as f64, "must have") {
                    wrong(format!("{message} entries"), false);
                }
                let value_shape = shape["value"]["shape"].as_str().unwrap_or_default();
                for (key, entry) in entries {
                    self.check(value_shape, entry, &format!("{path}.{key}"), found);
                }
            }
            "string" => {
                let Some(text) = value.as_str() else {
                    return wrong("must be a string".into(), true);
                };
                if let Some(allowed) = shape["enum"].as_array()
                    && !allowed.iter().any(|a| a.as_str() == Some(text))
                {
                    let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    return wrong(format!("must be one of {} (got {text:?})", names.join(", ")), false);
                }
                if let Some(message) = out_of(text.chars().count() as f64, "must be") {
                    wrong(format!("{message} characters long"), false);
                }
            }
            "integer" | "long" => match value.as_i64() {
                None => wrong("must be a whole number".into(), true),
                Some(n) => {
                    if let Some(message) = out_of(n as f64, "must be") {
                        wrong(message, false);
                    }
                }
            },
            "double" | "float" => match value.as_f64() {
                None => wrong("must be a number".into(), true),
                Some(n) => {
                    if let Some(message) = out_of(n, "must be") {
                        wrong(message, false);
                    }
                }
            },
            "boolean" if !value.is_boolean() => wrong("must be true or false".into(), true),
            "timestamp" if !(value.is_string() || value.is_number()) => wrong("must be a timestamp".into(), true),
            "blob" if !value.is_string() => wrong("must be base64 text".into(), true),
            _ => {}
        }
    }
}

/// Query-string values as the JSON their shape would have (a list shape takes every value).
fn query_value(model: &ServiceModel, shape_name: &str, values: &[String]) -> Value {
    let shape = model.shape(shape_name);
    let scalar = |shape: Option<&Value>, raw: &str| match shape.and_then(|s| s["type"].as_str()) {
        Some("integer" | "long") => raw
            .parse::<i64>()
            .map_or_else(|_| Value::String(raw.into()), Value::from),
        Some("boolean") => raw
            .parse::<bool>()
            .map_or_else(|_| Value::String(raw.into()), Value::from),
        _ => Value::String(raw.into()),
    };
    match shape.and_then(|s| s["type"].as_str()) {
        Some("list") => {
            let member = shape
                .and_then(|s| s["member"]["shape"].as_str())
                .and_then(|m| model.shape(m));
            Value::Array(values.iter().map(|v| scalar(member, v)).collect())
        }
        _ => scalar(shape, &values[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_names_carry_medialive_ranges() {
        let none = Value::Null;
        assert_eq!(bounds("__integerMin32Max8191", &none), (Some(32.0), Some(8191.0)));
        assert_eq!(bounds("__integerMinNegative60Max6", &none), (Some(-60.0), Some(6.0)));
        assert_eq!(bounds("__stringMax255", &none), (None, Some(255.0)));
        assert_eq!(bounds("__stringMin1Max255PatternS", &none), (Some(1.0), Some(255.0)));
        assert_eq!(bounds("__listOf__stringMin7Max11PatternAws097", &none), (None, None));
        assert_eq!(
            bounds("MaxResults", &serde_json::json!({"min": 1, "max": 1000})),
            (Some(1.0), Some(1000.0))
        );
    }
}
