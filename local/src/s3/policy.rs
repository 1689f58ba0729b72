//! Bucket policies, evaluated for anonymous reads (the browser fetching the player page and HLS
//! from a public-read bucket) and for a service principal's reads (CloudFront's edge through an
//! origin access control).

use serde_json::Value;

use crate::iam::wildcard;

/// Whether `policy` lets anyone (`Principal: "*"`) `s3:GetObject` the key.
/// A matching Deny wins; Allow statements with a Condition or with
/// NotPrincipal/NotAction/NotResource are not understood and so grant nothing.
pub(super) fn allows_anonymous_get(policy: &str, bucket: &str, key: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let resource = format!("arn:aws:s3:::{bucket}/{key}");
    let mut allowed = false;
    for stmt in one_or_many(doc.get("Statement")) {
        let applies = is_everyone(stmt.get("Principal"))
            && strings(stmt.get("Action")).any(|a| wildcard(&a.to_ascii_lowercase(), "s3:getobject"))
            && strings(stmt.get("Resource")).any(|r| wildcard(r, &resource));
        if !applies {
            continue;
        }
        match stmt.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") if stmt.get("Condition").is_none() => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// Whether `policy` lets the service principal `service` (`cloudfront.amazonaws.com`)
/// `s3:GetObject` the key for the resource `source_arn` of `source_account`: the statements naming
/// the service (`Principal: {"Service": …}`) are evaluated as IAM evaluates a policy — Deny wins,
/// some Allow is needed, each `Condition` on `aws:SourceArn` / `aws:SourceAccount` must hold, with
/// the String and Arn operators (a statement with another operator makes the policy grant nothing).
pub(super) fn allows_service_get(
    policy: &str,
    service: &str,
    bucket: &str,
    key: &str,
    source_arn: &str,
    source_account: &str,
) -> bool {
    allows_service(policy, service, "s3:GetObject", bucket, key, source_arn, source_account)
}

/// Whether `policy` lets the service principal `service` do `action` (`s3:GetObject`,
/// `s3:PutObject`) on the key, evaluated as [`allows_service_get`] describes.
pub(super) fn allows_service(
    policy: &str,
    service: &str,
    action: &str,
    bucket: &str,
    key: &str,
    source_arn: &str,
    source_account: &str,
) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let names_service = |stmt: &Value| match stmt.get("Principal") {
        Some(Value::Object(map)) => strings(map.get("Service")).any(|s| s == service),
        _ => false,
    };
    let statements: Vec<Value> = one_or_many(doc.get("Statement"))
        .filter(|s| names_service(s))
        .cloned()
        .collect();
    let Ok(parsed) = crate::iam::Policy::parse(&serde_json::json!({ "Statement": statements })) else {
        return false;
    };
    let context = std::collections::HashMap::from([
        ("aws:sourcearn".to_owned(), vec![source_arn.to_owned()]),
        ("aws:sourceaccount".to_owned(), vec![source_account.to_owned()]),
    ]);
    let request = crate::iam::Request {
        action,
        resource: &format!("arn:aws:s3:::{bucket}/{key}"),
        context: &context,
    };
    parsed.evaluate(&request) == crate::iam::Decision::Allow
}

/// Whether a policy is public as S3 Block Public Access judges it (simplified): some Allow
/// statement grants everyone (`Principal: "*"`) without a Condition that could narrow it.
pub(super) fn is_public(policy: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    one_or_many(doc.get("Statement")).any(|stmt| {
        stmt.get("Effect").and_then(Value::as_str) == Some("Allow")
            && is_everyone(stmt.get("Principal"))
            && stmt.get("Condition").is_none()
    })
}

fn one_or_many(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let items: &[Value] = match v {
        Some(Value::Array(items)) => items,
        Some(v) => std::slice::from_ref(v),
        None => &[],
    };
    items.iter()
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    one_or_many(v).filter_map(Value::as_str)
}

fn is_everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => strings(map.get("AWS")).any(|s| s == "*"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(principal: &str, action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"PublicRead","Effect":"Allow",
            "Principal":{principal},"Action":{action},"Resource":{resource}}}]}}"#
        )
    }

    #[test]
    fn prefix_scoped_public_read() {
        let p = policy(r#""*""#, r#""s3:GetObject""#, r#""arn:aws:s3:::web/live/*""#);
        assert!(allows_anonymous_get(&p, "web", "live/index.html"));
        assert!(allows_anonymous_get(&p, "web", "live/a/b.ts"));
        assert!(!allows_anonymous_get(&p, "web", "private/x"));
        assert!(!allows_anonymous_get(&p, "other", "live/index.html"));
    }

    #[test]
    fn principal_action_and_resource_forms() {
        let lists = policy(
            r#"{"AWS":["*"]}"#,
            r#"["s3:ListBucket","s3:*"]"#,
            r#"["arn:aws:s3:::web","arn:aws:s3:::web/*"]"#,
        );
        assert!(allows_anonymous_get(&lists, "web", "k"));
        let get_star = policy(r#"{"AWS":"*"}"#, r#""S3:Get*""#, r#""arn:aws:s3:::web/*""#);
        assert!(allows_anonymous_get(&get_star, "web", "k"));
        let someone = policy(
            r#"{"AWS":"arn:aws:iam::123456789012:root"}"#,
            r#""s3:GetObject""#,
            r#""arn:aws:s3:::web/*""#,
        );
        assert!(!allows_anonymous_get(&someone, "web", "k"));
        let put_only = policy(r#""*""#, r#""s3:PutObject""#, r#""arn:aws:s3:::web/*""#);
        assert!(!allows_anonymous_get(&put_only, "web", "k"));
        assert!(!allows_anonymous_get("not json", "web", "k"));
    }

    #[test]
    fn deny_wins_and_conditions_grant_nothing() {
        let p = r#"{"Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/secret/*"}]}"#;
        assert!(allows_anonymous_get(p, "web", "public/x"));
        assert!(!allows_anonymous_get(p, "web", "secret/x"));
        let conditional = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::web/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#;
        assert!(!allows_anonymous_get(conditional, "web", "x"));
    }

    #[test]
    fn cloudfront_service_principal_needs_its_source() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*",
            "Condition":{"StringEquals":{"AWS:SourceArn":"arn:aws:cloudfront::1:distribution/E1"}}}]}"#;
        let get = |arn: &str| allows_service_get(p, "cloudfront.amazonaws.com", "web", "k", arn, "1");
        assert!(get("arn:aws:cloudfront::1:distribution/E1"));
        assert!(!get("arn:aws:cloudfront::1:distribution/E2"));
        assert!(!allows_service_get(
            p,
            "cloudfront.amazonaws.com",
            "other",
            "k",
            "arn:aws:cloudfront::1:distribution/E1",
            "1"
        ));
        let by_account = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["cloudfront.amazonaws.com"]},
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*",
            "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:cloudfront::1:distribution/*"},"StringEquals":{"AWS:SourceAccount":"1"}}}}"#;
        assert!(allows_service_get(
            by_account,
            "cloudfront.amazonaws.com",
            "web",
            "k",
            "arn:aws:cloudfront::1:distribution/E9",
            "1"
        ));
        assert!(!allows_service_get(
            by_account,
            "cloudfront.amazonaws.com",
            "web",
            "k",
            "arn:aws:cloudfront::1:distribution/E9",
            "2"
        ));
        let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*"}]}"#;
        assert!(!allows_service_get(
            public,
            "cloudfront.amazonaws.com",
            "web",
            "k",
            "a",
            "1"
        ));
        assert!(!is_public(p), "a service principal with a condition is not public");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a*", "a"));
        assert!(wildcard("a?c", "abc"));
        assert!(wildcard("*x*y", "zzxzzy"));
        assert!(!wildcard("a?c", "ac"));
        assert!(!wildcard("a*c", "abcd"));
        assert!(!wildcard("abc", "abcd"));
    }
}
