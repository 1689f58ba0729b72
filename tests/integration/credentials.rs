//! Credentials and IAM as AWS enforces them. livestream-local verifies every signature and
//! checks every action against the caller's policy; two independent signers (the AWS CLI and
//! curl's SigV4) meet right and wrong keys, expired tokens, a wrong region, a skewed clock and
//! a policy that lacks the action. The operator, run with wrong credentials, says what is wrong
//! and where it looked, and is not ready.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::cloud::{LocalCloud, eventually, http_get, key_file, shipped_policy};
use crate::support::cluster::{kubectl_ok, namespace};
use crate::support::operator::{Operator, status};

/// Signs as someone: a key, its secret, maybe a session token, a region.
struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
}

const ADMIN: Signer = Signer {
    key: "local",
    secret: "local",
    token: None,
    region: "us-east-1",
};

impl Signer<'_> {
    /// `aws ARGS` as this signer: (success, stdout + stderr).
    async fn aws(&self, cloud: &LocalCloud, args: &[&str]) -> (bool, String) {
        let mut command = Command::new("aws");
        command
            .args([
                "--endpoint-url",
                &cloud.endpoint,
                "--region",
                self.region,
                "--output",
                "json",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", self.key)
            .env("AWS_SECRET_ACCESS_KEY", self.secret)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "");
        match self.token {
            Some(token) => command.env("AWS_SESSION_TOKEN", token),
            None => command.env_remove("AWS_SESSION_TOKEN"),
        };
        let out = command.output().await.expect("aws CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

fn viewer_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["medialive:List*", "s3:ListAllMyBuckets"], "Resource": "*"}
    ]})
}

#[tokio::test]
async fn signatures_tokens_regions_and_policies_are_enforced_as_aws_enforces_them() {
    let more = [
        json!({"accessKeyId": "AKIAVIEWER", "secretAccessKey": "viewer-secret", "user": "viewer", "policy": viewer_policy()}),
        json!({"accessKeyId": "ASIAEXPIRED", "secretAccessKey": "expired-secret", "sessionToken": "token-1",
            "expiration": "2026-01-01T00:00:00Z"}),
        json!({"accessKeyId": "ASIACURRENT", "secretAccessKey": "current-secret", "sessionToken": "token-2",
            "expiration": "2099-01-01T00:00:00Z"}),
    ];
    let cloud = LocalCloud::start_with_keys(&[], &key_file(&shipped_policy(), &more)).await;
    let unknown = Signer {
        key: "AKIANOBODY",
        ..ADMIN
    };
    let wrong_secret = Signer {
        secret: "not-the-secret",
        ..ADMIN
    };
    let expired = Signer {
        key: "ASIAEXPIRED",
        secret: "expired-secret",
        token: Some("token-1"),
        ..ADMIN
    };
    let current = Signer {
        key: "ASIACURRENT",
        secret: "current-secret",
        token: Some("token-2"),
        ..ADMIN
    };
    let tokenless = Signer { token: None, ..current };
    let elsewhere = Signer {
        region: "eu-west-1",
        ..ADMIN
    };
    let viewer = Signer {
        key: "AKIAVIEWER",
        secret: "viewer-secret",
        ..ADMIN
    };
    let medialive = ["medialive", "list-channels"];
    let mediapackage = ["mediapackage", "list-channels"];
    let s3 = ["s3api", "list-buckets"];
    let cases: Vec<(&str, &Signer, &[&str], Option<&str>)> = vec![
        ("the administrator", &ADMIN, &medialive, None),
        ("the administrator", &ADMIN, &s3, None),
        ("current temporary credentials", &current, &mediapackage, None),
        ("current temporary credentials", &current, &s3, None),
        (
            "an unknown key",
            &unknown,
            &medialive,
            Some("UnrecognizedClientException"),
        ),
        ("an unknown key", &unknown, &s3, Some("InvalidAccessKeyId")),
        (
            "a wrong secret",
            &wrong_secret,
            &medialive,
            Some("InvalidSignatureException"),
        ),
        (
            "a wrong secret",
            &wrong_secret,
            &mediapackage,
            Some("The request signature we calculated does not match"),
        ),
        ("a wrong secret", &wrong_secret, &s3, Some("SignatureDoesNotMatch")),
        (
            "an expired session token",
            &expired,
            &medialive,
            Some("ExpiredTokenException"),
        ),
        ("an expired session token", &expired, &s3, Some("ExpiredToken")),
        (
            "a temporary key without its token",
            &tokenless,
            &mediapackage,
            Some("UnrecognizedClientException"),
        ),
        (
            "another region",
            &elsewhere,
            &medialive,
            Some("Credential should be scoped to a valid region"),
        ),
        // ListBuckets lists every region's buckets; a bucket answers only its own region.
        ("another region", &elsewhere, &s3, None),
        (
            "the administrator",
            &ADMIN,
            &["s3api", "create-bucket", "--bucket", "region-probe"],
            None,
        ),
        // A bucket answers only its own region (the AWS CLI follows S3's answer to the bucket's
        // region, as on AWS, so curl asks below).
        (
            "another region, redirected by the CLI",
            &elsewhere,
            &["s3api", "list-objects-v2", "--bucket", "region-probe"],
            None,
        ),
        ("a policy that allows listing", &viewer, &medialive, None),
        ("a policy that allows listing", &viewer, &s3, None),
        (
            "a policy without the action",
            &viewer,
            &["medialive", "create-input-security-group"],
            Some(
                "AccessDeniedException) when calling the CreateInputSecurityGroup operation: User: arn:aws:iam::123456789012:user/viewer is not authorized to perform: medialive:CreateInputSecurityGroup on resource: arn:aws:medialive:us-east-1:123456789012:inputSecurityGroup:*",
            ),
        ),
        (
            "a policy without the action",
            &viewer,
            &["s3api", "create-bucket", "--bucket", "not-for-viewers"],
            Some("is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::not-for-viewers"),
        ),
    ];
    let mut wrong = Vec::new();
    for (who, signer, args, refusal) in &cases {
        let (ok, text) = signer.aws(&cloud, args).await;
        let as_expected = match refusal {
            None => ok,
            Some(words) => !ok && text.contains(words),
        };
        if !as_expected {
            wrong.push(format!("{who}: aws {}: {text}", args.join(" ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} answered otherwise:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );

    let mut curl = Command::new("curl");
    curl.args([
        "-s",
        "-i",
        "--aws-sigv4",
        "aws:amz:eu-west-1:s3",
        "--user",
        "local:local",
    ])
    .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
    .arg(format!("{}/region-probe?list-type=2", cloud.endpoint));
    let answer = String::from_utf8_lossy(&curl.output().await.unwrap().stdout).into_owned();
    assert!(
        answer.starts_with("HTTP/1.1 400")
            && answer.contains("<Code>AuthorizationHeaderMalformed</Code>")
            && answer.to_ascii_lowercase().contains("x-amz-bucket-region: us-east-1"),
        "{answer}"
    );

    // curl signs with its own SigV4 code; a request signed 10 minutes ago is refused.
    let late = Command::new("date")
        .args(["-u", "-d", "-10 min", "+%Y%m%dT%H%M%SZ"])
        .output()
        .await
        .unwrap();
    let stamp = String::from_utf8_lossy(&late.stdout).trim().to_owned();
    // (S3's answer to a late signature is checked in livestream-local's own S3 tests: curl sends
    // a caller's X-Amz-Date twice, which S3 refuses before looking at the time.)
    let signed_late = |service: &'static str, path: &'static str| {
        let sigv4 = format!("aws:amz:us-east-1:{service}");
        let mut curl = Command::new("curl");
        curl.args(["-s", "-i", "--aws-sigv4", &sigv4, "--user", "local:local"])
            .args(["-H", &format!("X-Amz-Date: {stamp}")])
            .arg(format!("{}{path}", cloud.endpoint));
        async move { String::from_utf8_lossy(&curl.output().await.unwrap().stdout).into_owned() }
    };
    let answer = signed_late("medialive", "/prod/channels").await;
    assert!(
        answer.starts_with("HTTP/1.1 403")
            && answer.contains(&format!("Signature expired: {stamp} is now earlier than")),
        "{answer}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_one_clear_condition_and_the_operator_is_not_ready() {
    let cloud = LocalCloud::start(&[]).await;
    // (what is wrong, key, secret, region, AWS's error, what the condition explains)
    let cases = [
        (
            "a wrong secret",
            "AKIAOPERATOR",
            "an-old-secret",
            "us-east-1",
            "InvalidSignatureException",
            "wrong secret access key",
        ),
        (
            "an unknown key",
            "AKIADELETED",
            "gone",
            "us-east-1",
            "UnrecognizedClientException",
            "does not know the access key id",
        ),
        (
            "another region",
            "AKIAOPERATOR",
            "operator-secret",
            "eu-west-1",
            "Credential should be scoped to a valid region",
            "region eu-west-1",
        ),
    ];
    for (what, key, secret, region, error, explained) in cases {
        let ns = namespace("credentials");
        let operator = Operator::start_with_credentials(&cloud, &ns, (key, secret), region).await;
        kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
        let degraded = eventually(&format!("{what} to be reported"), Duration::from_secs(60), || async {
            let conditions = status(&ns, "minimal")["conditions"].clone();
            conditions
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Degraded" && c["reason"] == "AwsCredentials")
                .cloned()
        })
        .await;
        let message = degraded["message"].as_str().unwrap();
        for part in [
            error,
            explained,
            "AWS refused the operator's credentials",
            "AWS default chain",
            "set here: AWS_ACCESS_KEY_ID",
        ] {
            assert!(message.contains(part), "{what}: {part} in {message}");
        }
        let readyz = format!("http://{}/readyz", operator.http_addr().await);
        eventually(
            &format!("/readyz to say why ({what})"),
            Duration::from_secs(30),
            || async {
                let (code, body) = http_get(&readyz).await;
                (code == 503 && body.contains(error)).then_some(())
            },
        )
        .await;
        // Nothing was created under credentials AWS refused; the finalizer has nothing to remove.
        drop(operator);
        let no_finalizers = r#"{"metadata":{"finalizers":[]}}"#;
        kubectl_ok(&[
            "patch",
            "lvs",
            "minimal",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            no_finalizers,
        ]);
        kubectl_ok(&["delete", "-n", &ns, "lvs", "minimal", "--wait=false"]);
    }
    let channels = cloud.aws.medialive.list_channels().send().await.unwrap();
    assert!(channels.channels().is_empty());
}
