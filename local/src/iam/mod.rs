//! IAM identity policies, evaluated as AWS evaluates them for one principal: an explicit Deny
//! wins, otherwise some statement must Allow; nothing allowed is an implicit deny. The grammar:
//! `Effect`, `Action` / `NotAction` (wildcards `*` `?`, case-insensitive), `Resource` /
//! `NotResource` (wildcards, case-sensitive), and `Condition` with the String, Arn, Bool and Null
//! operators, their `IfExists` forms and the `ForAnyValue:` / `ForAllValues:` set qualifiers. A
//! policy with another operator (Numeric, Date, IpAddress …) is refused when the keys are loaded.

pub mod actions;
pub mod naming;

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

    /// Whether some statement allows `action` on some resource under some conditions: when none
    /// does, the request is refused whatever its body says, before the body is read.
    pub fn may_allow(&self, action: &str) -> bool {
        let action = action.to_ascii_lowercase();
        (self.statements.iter().filter(|s| s.allow)).any(|s| s.names(&action))
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
            let condition = Condition {
                operator: operator.clone(),
                key: key.to_ascii_lowercase(),
                values: strings(values)?,
            };
            // Unknown operators are refused, not ignored: an ignored Deny would let requests in.
            if condition.parts().is_none() {
                bail!("condition operator {operator} is not supported by livestream-local");
            }
            conditions.push(condition);
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
        let (resources, not_resource) = &self.resources;
        let covered = resources.iter().any(|p| wildcard(p, request.resource));
        self.names(&request.action.to_ascii_lowercase())
            && covered != *not_resource
            && self.conditions.iter().all(|c| c.holds(request.context))
    }

    /// `Action` names `action` (lowercase), or `NotAction` does not.
    fn names(&self, action: &str) -> bool {
        let (actions, not_action) = &self.actions;
        actions.iter().any(|p| wildcard(&p.to_ascii_lowercase(), action)) != *not_action
    }
}

/// The condition operators this evaluator knows (without `Not`, `IfExists` or a set qualifier).
const OPERATORS: [&str; 6] = [
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
];

impl Condition {
    /// Splits `ForAnyValue:StringNotLikeIfExists` into (set qualifier, base operator, negated,
    /// if-exists); None for an operator this evaluator does not know.
    fn parts(&self) -> Option<(Option<&str>, &str, bool, bool)> {
        let (set, operator) = match self.operator.split_once(':') {
            Some((set @ ("ForAnyValue" | "ForAllValues"), operator)) => (Some(set), operator),
            Some(_) => return None,
            None => (None, self.operator.as_str()),
        };
        let (operator, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator, false),
        };
        if operator == "Null" {
            return Some((set, operator, false, if_exists));
        }
        let negated = operator.contains("Not");
        let base = OPERATORS.iter().find(|o| **o == operator.replacen("Not", "", 1))?;
        Some((set, base, negated, if_exists))
    }

    fn holds(&self, context: &HashMap<String, Vec<String>>) -> bool {
        let Some((set, operator, negated, if_exists)) = self.parts() else {
            return false;
        };
        let found = context.get(&self.key).filter(|values| !values.is_empty());
        if operator == "Null" {
            let wants_absent = self.values.iter().any(|v| v == "true");
            return found.is_none() == wants_absent;
        }
        // Each request value against the policy's values, negation applied per value.
        let matches =
            |actual: &String| self.values.iter().any(|expected| compare(operator, expected, actual)) != negated;
        match (set, found) {
            // An empty set: every value matches (vacuously), no value matches.
            (Some("ForAllValues"), None) => true,
            (Some(_), None) => if_exists,
            // A missing key: a negated operator holds, a positive one does not, unless IfExists.
            (None, None) => if_exists || negated,
            (Some("ForAllValues"), Some(values)) => values.iter().all(matches),
            (_, Some(values)) => values.iter().any(matches),
        }
    }
}

/// One value of a condition against one value of the request, for the operator without `Not`.
fn compare(operator: &str, expected: &str, actual: &str) -> bool {
    match operator {
        "StringEquals" => expected == actual,
        "StringEqualsIgnoreCase" | "Bool" => expected.eq_ignore_ascii_case(actual),
        // AWS documents ArnEquals and ArnLike alike: wildcards allowed.
        _ => wildcard(expected, actual),
    }
}

/// `*` matches any run of characters, `?` any one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
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
        // A literal `*` in the text (a resource such as `channel:*`) does not stop backtracking.
        assert!(wildcard("a*c", "a*bc"));
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
        let dated = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}}]});
        assert!(
            Policy::parse(&dated).is_err(),
            "an operator it cannot evaluate is refused"
        );
    }

    #[test]
    fn set_qualifiers_negate_each_value() {
        let only = |operator: &str| {
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {operator: {"aws:TagKeys": ["a", "b"]}}}]})
        };
        let keys = |keys: &[&str]| {
            let context: HashMap<String, Vec<String>> =
                HashMap::from([("aws:tagkeys".to_owned(), keys.iter().map(|k| k.to_string()).collect())]);
            context
        };
        let decide_keys = |policy: &Value, k: &[&str]| {
            let context = keys(k);
            let request = Request {
                action: "a:b",
                resource: "*",
                context: &context,
            };
            Policy::parse(policy).unwrap().evaluate(&request)
        };
        let all_in = only("ForAllValues:StringEquals");
        assert_eq!(decide_keys(&all_in, &["a"]), Decision::Allow);
        assert_eq!(decide_keys(&all_in, &["a", "x"]), Decision::ImplicitDeny);
        let none_in = only("ForAllValues:StringNotEquals");
        assert_eq!(decide_keys(&none_in, &["x", "y"]), Decision::Allow);
        assert_eq!(decide_keys(&none_in, &["a", "x"]), Decision::ImplicitDeny);
        let any_out = only("ForAnyValue:StringNotEquals");
        assert_eq!(decide_keys(&any_out, &["a", "x"]), Decision::Allow);
        assert_eq!(decide_keys(&any_out, &["a", "b"]), Decision::ImplicitDeny);
        let any_in = only("ForAnyValue:StringEquals");
        assert_eq!(
            decide(&any_in, "a:b", "*", &[]),
            Decision::ImplicitDeny,
            "no values: nothing matches"
        );
    }
}
