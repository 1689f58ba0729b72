//! What PutBucketPolicy refuses in a policy's statements: 400 `MalformedPolicy` with S3's words,
//! as AWS's answers quote them in public issues:
//! - `Missing required field Principal` (https://github.com/docker/docs/pull/6361,
//!   Terraform's "Error putting S3 policy: MalformedPolicy: Missing required field Principal");
//! - `Invalid effect: hello` for an Effect other than Allow / Deny
//!   (https://github.com/versity/versitygw/issues/647, the gateway mirroring AWS's answer);
//! - `Policy has invalid action` (https://github.com/versity/versitygw/issues/650);
//! - `Invalid principal in policy` (https://github.com/aws-samples/aws-modern-application-workshop/issues/89:
//!   an origin access identity that does not exist; https://github.com/ministryofjustice/analytical-platform/pull/4932:
//!   a bare unique id `AROA…`);
//! - `Policy has invalid resource` for a resource outside the bucket (another bucket's ARN,
//!   https://github.com/aws-samples/aws-media-services-vod-automation/issues/17) or `*`
//!   (https://github.com/noobaa/noobaa-core/issues/10058).
//!
//! Actions are judged by S3's grammar (`s3:` + a name of S3's verbs, or wildcards), not against
//! the full list of S3 actions
//! (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html): an
//! unknown `s3:GetFoo` passes here where AWS may refuse it.

use serde_json::Value;

use crate::iam::wildcard;

/// The verbs S3's action names start with (Service Authorization Reference, list_amazons3).
const VERBS: &[&str] = &[
    "Abort",
    "Associate",
    "Bypass",
    "Create",
    "Delete",
    "Describe",
    "Dissociate",
    "Get",
    "Initiate",
    "List",
    "ObjectOwnerOverrideToBucketOwner",
    "Pause",
    "Put",
    "Rename",
    "Replicate",
    "Restore",
    "Submit",
    "Tag",
    "Untag",
    "Update",
];

/// S3's refusal of `policy` (a JSON object) for `bucket`, in its words.
pub(super) fn refusal(policy: &Value, bucket: &str) -> Option<String> {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => return Some("Missing required field Statement".into()),
    };
    statements.into_iter().find_map(|s| statement(s, bucket))
}

fn statement(s: &Value, bucket: &str) -> Option<String> {
    match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(Value::String(e)) => return Some(format!("Invalid effect: {e}")),
        Some(_) => return Some("Invalid effect".into()),
        None => return Some("Missing required field Effect".into()),
    }
    match (s.get("Principal"), s.get("NotPrincipal")) {
        (None, None) => return Some("Missing required field Principal".into()),
        (Some(p), _) | (None, Some(p)) if !principal(p) => return Some("Invalid principal in policy".into()),
        _ => {}
    }
    let actions = s.get("Action").or_else(|| s.get("NotAction"));
    let Some(actions) = actions else {
        return Some("Missing required field Action".into());
    };
    if !strings(actions).is_some_and(|a| !a.is_empty() && a.iter().all(|a| action(a))) {
        return Some("Policy has invalid action".into());
    }
    let resources = s.get("Resource").or_else(|| s.get("NotResource"));
    let Some(resources) = resources else {
        return Some("Missing required field Resource".into());
    };
    if !strings(resources).is_some_and(|r| !r.is_empty() && r.iter().all(|r| resource(r, bucket))) {
        return Some("Policy has invalid resource".into());
    }
    None
}

/// A string or a list of strings.
fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    let Some((service, name)) = a.split_once(':') else {
        return false;
    };
    if !service.eq_ignore_ascii_case("s3")
        || name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    {
        return false;
    }
    // A wildcard may stand for any verb; a full name must start with one of S3's.
    name.contains(['*', '?'])
        || VERBS
            .iter()
            .any(|v| name.len() >= v.len() && name[..v.len()].eq_ignore_ascii_case(v))
}

/// `*`, or an object of AWS / Service / Federated / CanonicalUser principals.
fn principal(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(map) if !map.is_empty() => map.iter().all(|(kind, v)| {
            let Some(values) = strings(v).filter(|v| !v.is_empty()) else {
                return false;
            };
            values.iter().all(|v| match kind.as_str() {
                "AWS" => aws_principal(v),
                "Service" => service_principal(v),
                "Federated" | "CanonicalUser" => !v.is_empty(),
                _ => false,
            })
        }),
        _ => false,
    }
}

fn account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// `*`, an account id, or an IAM / STS ARN of an account (root, user, role, assumed role,
/// federated user). IAM checks that the user or role exists; this does not.
fn aws_principal(v: &str) -> bool {
    if v == "*" || account_id(v) {
        return true;
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let kind = resource.split('/').next().unwrap_or_default();
    arn == "arn"
        && partition.starts_with("aws")
        && region.is_empty()
        && account_id(account)
        && match service {
            "iam" => resource == "root" || matches!(kind, "user" | "role") && resource.len() > kind.len() + 1,
            "sts" => matches!(kind, "assumed-role" | "federated-user") && resource.len() > kind.len() + 1,
            _ => false,
        }
}

fn service_principal(v: &str) -> bool {
    let host = v
        .strip_suffix(".amazonaws.com")
        .or_else(|| v.strip_suffix(".amazonaws.com.cn"));
    host.is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
}

/// The bucket's ARN or ARNs of its objects (the bucket part may be a wildcard matching it).
fn resource(r: &str, bucket: &str) -> bool {
    let Some(rest) = r.strip_prefix("arn:aws:s3:::") else {
        return false;
    };
    let name = rest.split('/').next().unwrap_or_default();
    !name.is_empty() && wildcard(name, bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with(statement: Value) -> Option<String> {
        refusal(&json!({"Version": "2012-10-17", "Statement": [statement]}), "web")
    }

    fn good() -> Value {
        json!({"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::web/*"})
    }

    fn changed(member: &str, value: Value) -> Value {
        let mut s = good();
        s[member] = value;
        s
    }

    #[test]
    fn accepts_what_aws_accepts() {
        assert_eq!(with(good()), None);
        for p in [
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["123456789012", "arn:aws:iam::123456789012:root"]}),
            json!({"AWS": "arn:aws:iam::123456789012:role/publisher"}),
            json!({"AWS": "arn:aws:sts::123456789012:assumed-role/r/session"}),
        ] {
            assert_eq!(with(changed("Principal", p.clone())), None, "{p}");
        }
        for a in [
            json!("s3:*"),
            json!("*"),
            json!(["s3:Get*", "s3:ListBucket"]),
            json!("S3:getobject"),
        ] {
            assert_eq!(with(changed("Action", a.clone())), None, "{a}");
        }
        for r in [
            json!("arn:aws:s3:::web"),
            json!(["arn:aws:s3:::web", "arn:aws:s3:::w*/x/*"]),
        ] {
            assert_eq!(with(changed("Resource", r.clone())), None, "{r}");
        }
    }

    #[test]
    fn refuses_in_aws_words() {
        let effect = with(changed("Effect", json!("hello")));
        assert_eq!(effect.as_deref(), Some("Invalid effect: hello"));
        for a in [
            json!("invalid_action"),
            json!("ec2:RunInstances"),
            json!("s3:Fetch"),
            json!([]),
        ] {
            assert_eq!(
                with(changed("Action", a.clone())).as_deref(),
                Some("Policy has invalid action"),
                "{a}"
            );
        }
        for p in [
            json!("arn:aws:iam::123456789012:root"),
            json!({"AWS": "AROA27HJSWAHEPTTLIWSO"}),
            json!({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID"}),
            json!({"Service": "cloudfront"}),
            json!({"Someone": "*"}),
        ] {
            assert_eq!(
                with(changed("Principal", p.clone())).as_deref(),
                Some("Invalid principal in policy"),
                "{p}"
            );
        }
        for r in [json!("arn:aws:s3:::other/*"), json!("*"), json!("web/*")] {
            assert_eq!(
                with(changed("Resource", r.clone())).as_deref(),
                Some("Policy has invalid resource"),
                "{r}"
            );
        }
        let mut nobody = good();
        nobody.as_object_mut().unwrap().remove("Principal");
        assert_eq!(with(nobody).as_deref(), Some("Missing required field Principal"));
    }
}
