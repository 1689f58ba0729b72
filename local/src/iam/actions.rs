//! Which IAM action and resource a request is, as the Service Authorization Reference names them,
//! and the condition keys the request brings: a REST-JSON request by the mapping its service
//! registers ([`RestJsonIam`]: `service:Operation` on the resource its path names), `iam:PassRole`,
//! and the words of a refusal. Services of other protocols map their requests in their own
//! `iam.rs` onto [`Asked`].

use std::collections::HashMap;

use serde_json::Value;

use super::{Decision, Policy, Request, naming::RestJsonIam};

/// What a request asks of IAM.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    pub action: String,
    pub resource: String,
    pub context: HashMap<String, Vec<String>>,
}

/// Where resources live: their ARNs' region and account.
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub principal_arn: &'a str,
}

impl Scope<'_> {
    pub fn base_context(&self) -> HashMap<String, Vec<String>> {
        let one = |v: &str| vec![v.to_owned()];
        let user = self.principal_arn.rsplit('/').next().unwrap_or_default();
        HashMap::from([
            ("aws:principalarn".into(), one(self.principal_arn)),
            ("aws:principalaccount".into(), one(self.account)),
            ("aws:username".into(), one(user)),
            ("aws:requestedregion".into(), one(self.region)),
            ("aws:securetransport".into(), one("false")),
            ("aws:currenttime".into(), one(&jiff::Timestamp::now().to_string())),
        ])
    }
}

/// A REST-JSON request: `operation` as the service model names it, the path's decoded segments
/// and the JSON body; `iam` is how the service names its resources.
pub fn rest_json(scope: &Scope, iam: &RestJsonIam, operation: &str, segments: &[&str], body: &Value) -> Asked {
    let service = iam.service;
    let arn = |resource: &str| format!("arn:aws:{service}:{}:{}:{resource}", scope.region, scope.account);
    let resource = match segments {
        [.., "tags", tagged] => (*tagged).to_owned(),
        _ => (iam.resource)(segments, body).map_or_else(|| "*".to_owned(), |resource| arn(&resource)),
    };
    let mut context = scope.base_context();
    let tags = body.get("tags").or_else(|| body.get("Tags")).and_then(Value::as_object);
    if let Some(tags) = tags {
        for (k, v) in tags {
            let value = v.as_str().unwrap_or_default().to_owned();
            context.insert(format!("aws:requesttag/{}", k.to_ascii_lowercase()), vec![value]);
        }
        context.insert("aws:tagkeys".into(), tags.keys().cloned().collect());
    }
    Asked {
        action: format!("{service}:{operation}"),
        resource,
        context,
    }
}

/// A create that carries tags also asks for the service's tagging action on the new resource
/// (`medialive:CreateTags`, `mediapackage:TagResource` ...), as IAM's dependent actions say.
pub fn tag_on_create(iam: &RestJsonIam, operation: &str, create: &Asked) -> Option<Asked> {
    let tagged = create.context.get("aws:tagkeys").is_some_and(|keys| !keys.is_empty());
    (operation.starts_with("Create") && tagged).then(|| Asked {
        action: format!("{}:{}", iam.service, iam.tagging),
        ..create.clone()
    })
}

/// `iam:PassRole` of `role` to `service` (e.g. `medialive.amazonaws.com`).
pub fn pass_role(scope: &Scope, role: &str, service: &str) -> Asked {
    let mut context = scope.base_context();
    context.insert("iam:passedtoservice".into(), vec![service.to_owned()]);
    Asked {
        action: "iam:PassRole".into(),
        resource: role.to_owned(),
        context,
    }
}

/// None when `policy` allows it (no policy: an administrator); else AWS's words for the refusal.
pub fn refusal(policy: Option<&Policy>, principal_arn: &str, asked: &Asked) -> Option<String> {
    let request = Request {
        action: &asked.action,
        resource: &asked.resource,
        context: &asked.context,
    };
    let why = match policy?.evaluate(&request) {
        Decision::Allow => return None,
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_owned(),
        Decision::ImplicitDeny => format!("because no identity-based policy allows the {} action", asked.action),
    };
    Some(format!(
        "User: {principal_arn} is not authorized to perform: {} on resource: {} {why}",
        asked.action, asked.resource
    ))
}

/// The scope the services' IAM tests ask in.
#[cfg(test)]
pub const EXAMPLE_SCOPE: Scope<'static> = Scope {
    region: "us-east-1",
    account: "123456789012",
    principal_arn: "arn:aws:iam::123456789012:user/operator",
};

/// What a service's request asks of IAM in [`EXAMPLE_SCOPE`], for the services' IAM tests.
#[cfg(test)]
pub fn example(iam: &RestJsonIam) -> impl Fn(&str, &[&str], &Value) -> Asked + '_ {
    move |operation, segments, body| rest_json(&EXAMPLE_SCOPE, iam, operation, segments, body)
}
