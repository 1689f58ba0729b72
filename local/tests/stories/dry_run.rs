//! DryRun and channel engine versions through the AWS CLI (`--dry-run`, `list-versions`): a dry
//! run is checked as the real call is — the same 422 and its `validationErrors`, the quota, IAM's
//! PassRole — and changes nothing: no channel, no quota used, no request id remembered, an
//! updated channel left as it was (a RUNNING one included, which a real update refuses).

use serde_json::{Value, json};

use crate::support::cloud::{LocalCloud, key_file, shipped_policy};
use crate::support::files;
use crate::support::tools::{Cli, raw};

/// A key allowed every MediaLive action but not iam:PassRole.
const NO_PASS_ROLE: (&str, &str) = ("AKIANOPASSROLE", "no-pass-role-secret");

/// A CLI request file (PascalCase, as `--cli-input-json` takes it) written under the data dir.
fn request_file(cloud: &LocalCloud, name: &str, request: &Value) -> String {
    std::fs::create_dir_all(&cloud.data_dir).unwrap();
    let file = cloud.data_dir.join(name);
    std::fs::write(&file, request.to_string()).unwrap();
    format!("file://{}", file.display())
}

/// The CLI's request as the wire carries it: camelCase members (tag keys kept).
fn camel(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, v)| {
                    let key = k[..1].to_ascii_lowercase() + &k[1..];
                    let v = if k == "Tags" { v.clone() } else { camel(v) };
                    (key, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// `value` with every number a float: the CLI prints a `__double` member as `128000.0`.
fn floats(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(floats).collect()),
        Value::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), floats(v))).collect()),
        other => other.clone(),
    }
}

/// Owned arguments as the CLI helpers take them.
fn run(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `aws ARGS` with these environment variables, which must fail; its error output.
async fn fails_with(aws: &Cli<'_>, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = aws.command(args);
    command.envs(env.iter().copied());
    let out = command.output().await.unwrap();
    assert!(!out.status.success(), "aws {args:?} unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_dry_run_is_checked_as_the_real_call_and_changes_nothing() {
    let no_pass_role = json!({"accessKeyId": NO_PASS_ROLE.0, "secretAccessKey": NO_PASS_ROLE.1, "user": "no-pass-role",
        "policy": {"Statement": [{"Effect": "Allow", "Action": "medialive:*", "Resource": "*"}]}});
    let keys = key_file(&shipped_policy(), &[no_pass_role]);
    // One channel at most: a dry run must not use the quota.
    let cloud = LocalCloud::start_with_keys(&["--medialive-quotas", "channels=1"], &keys).await;
    let aws = Cli { cloud: &cloud };

    // ListVersions: two versions, the older expiring within two weeks.
    let versions = aws.ok(&["medialive", "list-versions"]).await;
    let versions = versions["Versions"].as_array().unwrap().clone();
    assert_eq!(versions.len(), 2, "{versions:?}");
    let expires = |v: &Value| {
        v["ExpirationDate"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 15);
    assert!(
        expires(&versions[0]) < soon && expires(&versions[1]) > soon,
        "{versions:?}"
    );
    let (older, newest) = (
        versions[0]["Version"].as_str().unwrap(),
        versions[1]["Version"].as_str().unwrap(),
    );

    let (sg, input, _) = aws.rtmp_input("dry").await;
    aws.ok(&["mediapackage", "create-channel", "--id", "dry-mp"]).await;
    let request = files::read("tests/fixtures/aws-cli/create-channel.json")
        .replace("INPUT_ID", &input)
        .replace("PACKAGE_CHANNEL_ID", "dry-mp");
    let mut request: Value = serde_json::from_str(&request).unwrap();
    request["RequestId"] = json!("dry-run-request");
    let create = |file: &str| {
        ["medialive", "create-channel", "--cli-input-json", file]
            .map(str::to_owned)
            .to_vec()
    };
    let with = |mut args: Vec<String>, more: &[&str]| {
        args.extend(more.iter().map(|s| (*s).to_owned()));
        args
    };

    // A dry run describes the channel as it would be, without an id, and creates nothing.
    let valid = request_file(&cloud, "valid.json", &request);
    for _ in 0..2 {
        let dry = aws.ok(&run(&with(create(&valid), &["--dry-run"]))).await;
        let channel = &dry["Channel"];
        assert!(channel.get("Id").is_none() && channel.get("Arn").is_none(), "{dry}");
        assert_eq!(channel["State"], "CREATING");
        assert_eq!(channel["Name"], "cli-channel");
        assert_eq!(
            channel["ChannelEngineVersion"]["Version"], newest,
            "no version asked: the newest"
        );
        assert_eq!(floats(&channel["EncoderSettings"]), floats(&request["EncoderSettings"]));
    }
    assert_eq!(aws.ok(&["medialive", "list-channels"]).await["Channels"], json!([]));

    // An invalid request: the same 422, validationErrors and all, dry or not.
    let mut invalid = request.clone();
    invalid["EncoderSettings"]["OutputGroups"][0]["Outputs"][0]["AudioDescriptionNames"] = json!([]);
    let invalid_file = request_file(&cloud, "invalid.json", &invalid);
    let dry_refusal = aws.fails(&run(&with(create(&invalid_file), &["--dry-run"]))).await;
    let real_refusal = aws.fails(&run(&create(&invalid_file))).await;
    assert_eq!(dry_refusal, real_refusal);
    assert!(
        dry_refusal.contains("UnprocessableEntityException") && dry_refusal.contains("is not referenced"),
        "{dry_refusal}"
    );
    let mut wire = camel(&invalid);
    let real = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&wire)).await;
    wire["dryRun"] = json!(true);
    let dry = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&wire)).await;
    assert_eq!(dry, real);
    assert_eq!(
        (dry.0, dry.2["validationErrors"][0]["elementPath"].as_str()),
        (422, Some("audioDescriptions[0]"))
    );
    // An engine version that is not served is refused, dry or not.
    let mut unknown = request.clone();
    unknown["ChannelEngineVersion"] = json!({"Version": "0.0.1"});
    let unknown = request_file(&cloud, "unknown.json", &unknown);
    let refused = aws.fails(&run(&with(create(&unknown), &["--dry-run"]))).await;
    assert!(
        refused.contains("UnprocessableEntityException") && refused.contains("0.0.1"),
        "{refused}"
    );
    // IAM: a caller that may not pass the role is refused, dry or not, in AWS's words.
    for dry in [true, false] {
        let args = with(create(&valid), if dry { &["--dry-run"] } else { &[] });
        let key = [
            ("AWS_ACCESS_KEY_ID", NO_PASS_ROLE.0),
            ("AWS_SECRET_ACCESS_KEY", NO_PASS_ROLE.1),
        ];
        let refused = fails_with(&aws, &run(&args), &key).await;
        assert!(refused.contains("\"iam:PassRole\""), "{refused}");
    }
    assert_eq!(aws.ok(&["medialive", "list-channels"]).await["Channels"], json!([]));

    // The dry runs used neither the quota of one channel nor the request id.
    let mut pinned = request.clone();
    pinned["ChannelEngineVersion"] = json!({"Version": older});
    let pinned = request_file(&cloud, "pinned.json", &pinned);
    let created = aws.ok(&run(&create(&pinned))).await;
    let id = created["Channel"]["Id"].as_str().unwrap().to_owned();
    assert_eq!(created["Channel"]["ChannelEngineVersion"], versions[0]);
    // Over the quota (with an input of its own: an input feeds one channel) a dry run is refused
    // as the real call is. (The CLI retries a 429; once is enough here.)
    let other = aws
        .ok(&[
            "medialive",
            "create-input",
            "--name",
            "other",
            "--type",
            "RTMP_PUSH",
            "--input-security-groups",
            &sg,
            "--destinations",
            "StreamName=live/other",
        ])
        .await;
    let mut second = request.clone();
    second["InputAttachments"][0]["InputId"] = other["Input"]["Id"].clone();
    let second = request_file(&cloud, "second.json", &second);
    let once = [("AWS_MAX_ATTEMPTS", "1"), ("AWS_RETRY_MODE", "standard")];
    let over = fails_with(&aws, &run(&with(create(&second), &["--dry-run"])), &once).await;
    assert!(
        over.contains("TooManyRequestsException"),
        "a dry run over the quota is refused: {over}"
    );
    aws.ok(&["medialive", "wait", "channel-created", "--channel-id", &id])
        .await;

    // A dry-run update answers the channel as it would be and leaves it as it is.
    let before = aws.ok(&["medialive", "describe-channel", "--channel-id", &id]).await;
    let update = |more: &[&str]| {
        let mut args = vec!["medialive", "update-channel", "--channel-id", &id];
        args.extend_from_slice(more);
        args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    };
    let engine = r#"{"Version": "DEFAULT"}"#;
    let renamed = aws
        .ok(&run(&update(&[
            "--name",
            "renamed",
            "--channel-engine-version",
            engine,
            "--dry-run",
        ])))
        .await;
    assert_eq!(renamed["Channel"]["Name"], "renamed");
    assert_eq!(renamed["Channel"]["ChannelEngineVersion"]["Version"], newest);
    assert_eq!(renamed["Channel"]["State"], "IDLE");
    let after = aws.ok(&["medialive", "describe-channel", "--channel-id", &id]).await;
    assert_eq!(after, before, "a dry-run update changes neither settings nor state");

    // On a RUNNING channel: a real update is refused, a dry run still checks the settings.
    aws.ok(&["medialive", "start-channel", "--channel-id", &id]).await;
    aws.ok(&["medialive", "wait", "channel-running", "--channel-id", &id])
        .await;
    let running = aws.ok(&run(&update(&["--name", "renamed", "--dry-run"]))).await;
    assert_eq!(
        (&running["Channel"]["Name"], &running["Channel"]["State"]),
        (&json!("renamed"), &json!("RUNNING"))
    );
    let no_audio = r#"[{"Name": "audio_aac", "AudioSelectorName": "default"}, {"Name": "orphan", "AudioSelectorName": "default"}]"#;
    let mut settings = request["EncoderSettings"].clone();
    settings["AudioDescriptions"] = serde_json::from_str(no_audio).unwrap();
    let settings = settings.to_string();
    let refused = aws
        .fails(&run(&update(&["--encoder-settings", &settings, "--dry-run"])))
        .await;
    assert!(
        refused.contains("UnprocessableEntityException") && refused.contains("\"orphan\""),
        "{refused}"
    );
    let refused = aws.fails(&run(&update(&["--name", "renamed"]))).await;
    assert!(refused.contains("ConflictException"), "{refused}");
    let described = aws.ok(&["medialive", "describe-channel", "--channel-id", &id]).await;
    assert_eq!(
        (&described["Name"], &described["State"]),
        (&json!("cli-channel"), &json!("RUNNING"))
    );
    // Each running pipeline reports the version it runs.
    assert_eq!(described["PipelineDetails"][0]["ChannelEngineVersion"], versions[0]);
    let listed = aws.ok(&["medialive", "list-channels"]).await;
    assert_eq!(listed["Channels"][0]["UsedChannelEngineVersions"], json!([versions[0]]));
    aws.ok(&["medialive", "stop-channel", "--channel-id", &id]).await;
}
