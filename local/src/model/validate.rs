//! Checking a REST-JSON request against its operation's input shape: required members, JSON
//! types, enum values, numeric ranges, string and list lengths. MediaLive's model carries most
//! ranges only in shape names (`__integerMin32Max8191`, `__stringMin1Max255`), so those are read
//! too. Members the model does not know are ignored, as the services ignore them.
//!
//! A strict model (MediaPackage v2, whose model carries them) is also checked for string
//! `pattern`s, matched against the whole value, and for its path (`uri`), header and query-string
//! members, required ones included.

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
    /// Which constraint of the model the value breaks.
    pub kind: Kind,
}

impl Violation {
    /// The path and the message, as the services' refusals word it.
    pub fn text(&self) -> String {
        format!("{} {}", self.path, self.message)
    }
}

/// The model constraint a [`Violation`] breaks (MediaPackage v2 names each in its
/// `ValidationExceptionType`: `MEMBER_MISSING`, `MEMBER_MIN_VALUE` ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Missing,
    WrongType,
    MinValue,
    MaxValue,
    MinLength,
    MaxLength,
    Enum,
    Pattern,
}

impl Violation {
    fn new(path: impl Into<String>, message: impl Into<String>, kind: Kind) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            malformed: matches!(kind, Kind::Missing | Kind::WrongType),
            kind,
        }
    }
}

/// Where a request's path (`uri`), header and query-string members are, for a strict model.
pub struct Located<'a> {
    pub query: &'a HashMap<String, Vec<String>>,
    /// The path's labels by name (`ChannelGroupName`), from the operation's `requestUri`.
    pub labels: &'a HashMap<String, String>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
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
        let labels = HashMap::new();
        let located = Located {
            query,
            labels: &labels,
            header: &|_| None,
        };
        self.validate_request(operation, body, &located)
    }

    /// Everything wrong with a request for `operation`: its JSON body, its query string and, for a
    /// strict model, its path and header members.
    pub fn validate_request(&self, operation: &str, body: &Value, located: &Located) -> Vec<Violation> {
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
            let is_required = required.contains(&member.as_str());
            let located_values = match spec["location"].as_str() {
                Some("querystring") => Some(located.query.get(name).cloned().unwrap_or_default()),
                // Path members are what routed the request and headers the SDK's business, except
                // for a strict model.
                Some("uri") if self.strict => Some(located.labels.get(name).cloned().into_iter().collect()),
                Some("header") if self.strict => Some((located.header)(name).into_iter().collect()),
                Some(_) => continue,
                None => None,
            };
            match located_values {
                Some(values) if values.is_empty() => {
                    if is_required && self.strict {
                        found.push(Violation::new(name, "is required", Kind::Missing));
                    }
                }
                Some(values) => {
                    let value = query_value(self, shape_name, &values);
                    self.check(shape_name, &value, name, &mut found);
                }
                None => match body.get(name) {
                    Some(Value::Null) | None if is_required => {
                        found.push(Violation::new(name, "is required", Kind::Missing))
                    }
                    Some(Value::Null) | None => {}
                    Some(value) => self.check(shape_name, value, name, &mut found),
                },
            }
        }
        found
    }

    /// The labels of `operation`'s `requestUri` (`/channelGroup/{ChannelGroupName}`) in a request
    /// path's decoded segments.
    pub fn labels(&self, operation: &str, segments: &[&str]) -> HashMap<String, String> {
        let template = self
            .operations
            .get(operation)
            .and_then(|o| o["http"]["requestUri"].as_str());
        let template = template.unwrap_or_default().split('?').next().unwrap_or_default();
        template
            .split('/')
            .filter(|s| !s.is_empty())
            .zip(segments)
            .filter_map(|(part, value)| {
                let name = part.strip_prefix('{')?.strip_suffix('}')?;
                Some((name.trim_end_matches('+').to_owned(), (*value).to_owned()))
            })
            .collect()
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
        let mut wrong = |message: String, kind: Kind| found.push(Violation::new(path, message, kind));
        let (min, max) = bounds(shape_name, shape);
        // (message, whether the value is under the minimum)
        let out_of = |n: f64, what: &str| match (min, max) {
            (Some(min), _) if n < min => Some((format!("{what} at least {min} (got {n})"), true)),
            (_, Some(max)) if n > max => Some((format!("{what} at most {max} (got {n})"), false)),
            _ => None,
        };
        let length = |low: bool| if low { Kind::MinLength } else { Kind::MaxLength };
        let value_kind = |low: bool| if low { Kind::MinValue } else { Kind::MaxValue };
        match shape["type"].as_str().unwrap_or_default() {
            "structure" => {
                let Some(object) = value.as_object() else {
                    return wrong("must be an object".into(), Kind::WrongType);
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
                        Some(Value::Null) | None if required.contains(&member.as_str()) => {
                            found.push(Violation::new(child, "is required", Kind::Missing))
                        }
                        Some(Value::Null) | None => {}
                        Some(v) => self.check(spec["shape"].as_str().unwrap_or_default(), v, &child, found),
                    }
                }
            }
            "list" => {
                let Some(items) = value.as_array() else {
                    return wrong("must be a list".into(), Kind::WrongType);
                };
                if let Some((message, low)) = out_of(items.len() as f64, "must have") {
                    wrong(format!("{message} items"), length(low));
                }
                let member = shape["member"]["shape"].as_str().unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    self.check(member, item, &format!("{path}[{i}]"), found);
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else {
                    return wrong("must be a map".into(), Kind::WrongType);
                };
                if let Some((message, low)) = out_of(entries.len() as f64, "must have") {
                    wrong(format!("{message} entries"), length(low));
                }
                let value_shape = shape["value"]["shape"].as_str().unwrap_or_default();
                for (key, entry) in entries {
                    self.check(value_shape, entry, &format!("{path}.{key}"), found);
                }
            }
            "string" => {
                let Some(text) = value.as_str() else {
                    return wrong("must be a string".into(), Kind::WrongType);
                };
                if let Some(allowed) = shape["enum"].as_array()
                    && !allowed.iter().any(|a| a.as_str() == Some(text))
                {
                    let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    return wrong(
                        format!("must be one of {} (got {text:?})", names.join(", ")),
                        Kind::Enum,
                    );
                }
                if let Some((message, low)) = out_of(text.chars().count() as f64, "must be") {
                    return wrong(format!("{message} characters long"), length(low));
                }
                if let Some(pattern) = self.patterns.get(shape_name)
                    && !pattern.is_match(text)
                {
                    let source = shape["pattern"].as_str().unwrap_or_default();
                    wrong(format!("must match the pattern {source} (got {text:?})"), Kind::Pattern);
                }
            }
            "integer" | "long" => match value.as_i64() {
                None => wrong("must be a whole number".into(), Kind::WrongType),
                Some(n) => {
                    if let Some((message, low)) = out_of(n as f64, "must be") {
                        wrong(message, value_kind(low));
                    }
                }
            },
            "double" | "float" => match value.as_f64() {
                None => wrong("must be a number".into(), Kind::WrongType),
                Some(n) => {
                    if let Some((message, low)) = out_of(n, "must be") {
                        wrong(message, value_kind(low));
                    }
                }
            },
            "boolean" if !value.is_boolean() => wrong("must be true or false".into(), Kind::WrongType),
            "timestamp" if !(value.is_string() || value.is_number()) => {
                wrong("must be a timestamp".into(), Kind::WrongType)
            }
            "blob" if !value.is_string() => wrong("must be base64 text".into(), Kind::WrongType),
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
