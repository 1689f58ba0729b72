//! How a REST-JSON service names the IAM resources of its requests: a value each service
//! registers (see `chain::RestJson::iam`), so IAM's request mapping names no service.

use serde_json::Value;

#[derive(Clone, Copy)]
pub struct RestJsonIam {
    /// The prefix of its actions and ARNs (`medialive`: `medialive:StartChannel`).
    pub service: &'static str,
    /// The resource, after `arn:aws:SERVICE:REGION:ACCOUNT:`, a request's decoded path segments
    /// and JSON body name; None: `*`. (`.../tags/{arn}` is the tagged ARN for every service.)
    pub resource: fn(&[&str], &Value) -> Option<String>,
    /// The action a create carrying tags also asks for on the new resource (a dependent action).
    pub tagging: &'static str,
}
