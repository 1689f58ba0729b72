//! Bucket policies, evaluated only for anonymous reads (the browser fetching
//! the player page and HLS from a public-read bucket).

use super::store::Store;

use s3s::S3Result;
use s3s::access::{S3Access, S3AccessContext};
use s3s::s3_error;
use serde_json::Value;

/// Access hook of the anonymous service: only `GetObject`/`HeadObject` that
/// the bucket policy grants to everyone get through.
pub(super) struct PublicRead(pub Store);

#[async_trait::async_trait]
impl S3Access for PublicRead {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if matches!(cx.s3_op().name(), "GetObject" | "HeadObject")
            && let Some((bucket, key)) = cx.s3_path().as_object()
            // RestrictPublicBuckets: a public policy grants anonymous callers nothing.
            && !self.0.block(bucket).await.restrict_public_buckets
            && let Some(policy) = self.0.policy(bucket).await
            && allows_anonymous_get(&policy, bucket, key)
        {
            return Ok(());
        }
        Err(s3_error!(AccessDenied, "Access Denied"))
    }
}

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
            && strings(stmt.get("Action")).any(|a| wildcard_match(&a.to_ascii_lowercase(), "s3:getobject"))
            && strings(stmt.get("Resource")).any(|r| wildcard_match(r, &resource));
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

/// IAM-style glob: `*` matches any run of characters, `?` exactly one.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Position of the last `*` and the text index it is currently absorbing up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
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
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a*", "a"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(wildcard_match("*x*y", "zzxzzy"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(!wildcard_match("a*c", "abcd"));
        assert!(!wildcard_match("abc", "abcd"));
    }
}
