//! IAM identity policies, evaluated as AWS evaluates them for one principal: an explicit Deny
//! wins, otherwise some statement must Allow; nothing allowed is an implicit deny. The grammar:
//! `Effect`, `Action` / `NotAction` (wildcards `*` `?`, case-insensitive), `Resource` /
//! `NotResource` (wildcards, case-sensitive), and `Condition` with the String, Arn, Bool and Null
//! operators, their `IfExists` forms and the `ForAnyValue:` / `ForAllValues:` set qualifiers.

pub mod actions;

use std::collections::HashMap;

use anyhow::{Context, bail};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    /// (patterns, negated: `NotAction`)
    actions: (Vec<String>, bool),
    resources: (Vec<String>, bool),
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    operator: String,
    key: String,
    values: Vec<String>,
}

/// What one request asks: an action on a resource, with the request's condition keys.
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a HashMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    /// No statement allows it.
    ImplicitDeny,
}

fn strings(value: &Value) -> anyhow::Result<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                other => bail!("expected a string, got {other}"),
            })
            .collect(),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        other => bail!("expected a string or a list of strings, got {other}"),
    }
}

/// One of two members that exclude each other (`Action` / `NotAction`).
fn either(statement: &Value, positive: &str, negative: &str) -> anyhow::Result<(Vec<String>, bool)> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(v), None) => Ok((strings(v)?, false)),
        (None, Some(v)) => Ok((strings(v)?, true)),
        _ => bail!("a statement needs exactly one of {positive} and {negative}"),
    }
}

impl Policy {
    /// Parses a policy document, refusing what IAM would refuse as malformed.
    pub fn parse(document: &Value) -> anyhow::Result<Self> {
        let statements = match &document["Statement"] {
            Value::Array(items) => items.clone(),
            Value::Object(_) => vec![document["Statement"].clone()],
            _ => bail!("MalformedPolicyDocument: the policy has no Statement"),
        };
        let statements = statements
            .iter()
            .enumerate()
            .map(|(n, s)| parse_statement(s).with_context(|| format!("MalformedPolicyDocument: statement {n}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { statements })
    }

    pub fn evaluate(&self, request: &Request) -> Decision {
        let applies: Vec<&Statement> = self.statements.iter().filter(|s| s.applies(request)).collect();
        if applies.iter().any(|s| !s.allow) {
            Decision::ExplicitDeny
        } else if applies.iter().any(|s| s.allow) {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

fn parse_statement(s: &Value) -> anyhow::Result<Statement> {
    let allow = match s["Effect"].as_str() {
        Some("Allow") => true,
        Some("Deny") => false,
        other => bail!("Effect must be Allow or Deny, not {other:?}"),
    };
    let mut conditions = Vec::new();
    for (operator, keys) in s.get("Condition").and_then(Value::as_object).into_iter().flatten() {
        for (key, values) in keys.as_object().context("a condition operator maps keys to values")? {
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.to_ascii_lowercase(),
                values: strings(values)?,
            });
        }
    }
    Ok(Statement {
        allow,
        actions: either(s, "Action", "NotAction")?,
        resources: either(s, "Resource", "NotResource")?,
        conditions,
    })
}

impl Statement {
    fn applies(&self, request: &Request) -> bool {
        let action = request.action.to_ascii_lowercase();
        let (actions, not_action) = &self.actions;
        let named = actions.iter().any(|p| wildcard(&p.to_ascii_lowercase(), &action));
        let (resources, not_resource) = &self.resources;
        let covered = resources.iter().any(|p| wildcard(p, request.resource));
        named != *not_action && covered != *not_resource && self.conditions.iter().all(|c| c.holds(request.context))
    }
}

impl Condition {
    fn holds(&self, context: &HashMap<String, Vec<String>>) -> bool {
        let (set, operator) = match self.operator.split_once(':') {
            Some((set, operator)) => (Some(set), operator),
            None => (None, self.operator.as_str()),
        };
        let (operator, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator, false),
        };
        let found = context.get(&self.key);
        if operator == "Null" {
            let wants_absent = self.values.iter().any(|v| v == "true");
            return found.is_none() == wants_absent;
        }
        let negated = operator.contains("Not");
        let Some(found) = found else {
            // A missing key matches nothing; a negated operator then holds, as does IfExists.
            return if_exists || negated || set == Some("ForAllValues");
        };
        let matches = |actual: &String| self.values.iter().any(|expected| compare(operator, expected, actual));
        let positive = match set {
            Some("ForAllValues") => found.iter().all(matches),
            _ => found.iter().any(matches),
        };
        positive != negated
    }
}

/// One value of a condition against one value of the request, for the operator without `Not`.
fn compare(operator: &str, expected: &str, actual: &str) -> bool {
    match operator.replace("Not", "").as_str() {
        "StringEquals" | "ArnEquals" => expected == actual,
        "StringEqualsIgnoreCase" => expected.eq_ignore_ascii_case(actual),
        "StringLike" | "ArnLike" => wildcard(expected, actual),
        "Bool" => expected.eq_ignore_ascii_case(actual),
        other => {
            tracing::warn!(operator = other, "condition operator not supported: it never matches");
            false
        }
    }
}

/// `*` matches any run of characters, `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decide(policy: &Value, action: &str, resource: &str, context: &[(&str, &str)]) -> Decision {
        let context = (context.iter())
            .map(|(k, v)| (k.to_ascii_lowercase(), vec![v.to_string()]))
            .collect();
        let request = Request {
            action,
            resource,
            context: &context,
        };
        Policy::parse(policy).unwrap().evaluate(&request)
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("medialive:*", "medialive:CreateChannel"));
        assert!(wildcard(
            "arn:aws:s3:::b/livestreams/*",
            "arn:aws:s3:::b/livestreams/x/index.html"
        ));
        assert!(!wildcard("arn:aws:s3:::b/livestreams/*", "arn:aws:s3:::b/other"));
        assert!(wildcard("medialive:Describe?hannel", "medialive:DescribeChannel"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a?", "a"));
    }

    #[test]
    fn deny_wins_allow_is_needed_and_actions_ignore_case() {
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "medialive:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "medialive:DeleteChannel", "Resource": "arn:aws:medialive:*:*:channel:1*"}
        ]});
        assert_eq!(decide(&policy, "medialive:createchannel", "*", &[]), Decision::Allow);
        let channel = "arn:aws:medialive:us-east-1:1:channel:123";
        assert_eq!(
            decide(&policy, "medialive:DeleteChannel", channel, &[]),
            Decision::ExplicitDeny
        );
        assert_eq!(
            decide(&policy, "mediapackage:CreateChannel", "*", &[]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn not_action_not_resource_and_conditions() {
        let policy =
            json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}});
        assert_eq!(
            decide(&policy, "s3:GetObject", "arn:aws:s3:::open/x", &[]),
            Decision::Allow
        );
        assert_eq!(
            decide(&policy, "s3:GetObject", "arn:aws:s3:::secret/x", &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&policy, "iam:PassRole", "*", &[]), Decision::ImplicitDeny);

        let pass = json!({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/R",
            "Condition": {"StringEquals": {"iam:PassedToService": "medialive.amazonaws.com"}}}]});
        let role = "arn:aws:iam::1:role/R";
        let to = |service| [("iam:PassedToService", service)];
        assert_eq!(
            decide(&pass, "iam:PassRole", role, &to("medialive.amazonaws.com")),
            Decision::Allow
        );
        assert_eq!(
            decide(&pass, "iam:PassRole", role, &to("ec2.amazonaws.com")),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&pass, "iam:PassRole", role, &[]), Decision::ImplicitDeny);

        let tagged = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringLikeIfExists": {"aws:ResourceTag/owner": "team-*"}, "StringNotEquals": {"aws:RequestTag/env": "prod"}}}]});
        assert_eq!(decide(&tagged, "a:b", "*", &[]), Decision::Allow);
        assert_eq!(
            decide(&tagged, "a:b", "*", &[("aws:ResourceTag/owner", "team-x")]),
            Decision::Allow
        );
        assert_eq!(
            decide(&tagged, "a:b", "*", &[("aws:ResourceTag/owner", "x")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&tagged, "a:b", "*", &[("aws:RequestTag/env", "prod")]),
            Decision::ImplicitDeny
        );
        assert!(Policy::parse(&json!({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})).is_err());
    }
}
