//! The AWS CLI, an independent client with its own wire-format code, drives the same lifecycle
//! against livestream-local, waiters included: proof the API matches what official clients expect.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    cloud::{LocalCloud, http_get},
    files,
    tools::Cli,
};

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

#[tokio::test]
async fn aws_cli_drives_the_whole_lifecycle() {
    let cloud = LocalCloud::start(&[]).await;
    let aws = Cli { cloud: &cloud };

    let sg = aws
        .ok(&[
            "medialive",
            "create-input-security-group",
            "--whitelist-rules",
            "Cidr=127.0.0.0/8",
        ])
        .await;
    let sg_id = text(&sg["SecurityGroup"]["Id"]);
    let input = aws
        .ok(&[
            "medialive",
            "create-input",
            "--name",
            "cli-input",
            "--type",
            "RTMP_PUSH",
            "--input-security-groups",
            &sg_id,
            "--destinations",
            "StreamName=live/cli",
        ])
        .await;
    let input_id = text(&input["Input"]["Id"]);
    assert!(text(&input["Input"]["Destinations"][0]["Url"]).ends_with("/live/cli"));
    aws.ok(&["medialive", "wait", "input-detached", "--input-id", &input_id])
        .await;

    aws.ok(&["mediapackage", "create-channel", "--id", "cli-channel"]).await;
    let endpoint = aws
        .ok(&[
            "mediapackage",
            "create-origin-endpoint",
            "--channel-id",
            "cli-channel",
            "--id",
            "cli-hls",
            "--hls-package",
            "SegmentDurationSeconds=2,PlaylistWindowSeconds=20,StreamSelection={StreamOrder=VIDEO_BITRATE_ASCENDING}",
        ])
        .await;
    assert_eq!(endpoint["HlsPackage"]["SegmentDurationSeconds"], 2);
    assert_eq!(
        endpoint["HlsPackage"]["StreamSelection"]["StreamOrder"],
        "VIDEO_BITRATE_ASCENDING"
    );
    assert!(text(&endpoint["Url"]).ends_with("/out/v1/cli-hls/index.m3u8"));

    // The channel request as a CLI user writes it (PascalCase, --cli-input-json).
    let request = files::read("tests/fixtures/aws-cli/create-channel.json")
        .replace("INPUT_ID", &input_id)
        .replace("PACKAGE_CHANNEL_ID", "cli-channel");
    let file = cloud.data_dir.join("create-channel.json");
    std::fs::write(&file, request).unwrap();
    let channel = aws
        .ok(&[
            "medialive",
            "create-channel",
            "--cli-input-json",
            &format!("file://{}", file.display()),
        ])
        .await;
    let channel_id = text(&channel["Channel"]["Id"]);
    assert_eq!(
        channel["Channel"]["EncoderSettings"]["VideoDescriptions"][0]["Width"],
        960
    );
    aws.ok(&["medialive", "wait", "channel-created", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "wait", "input-attached", "--input-id", &input_id])
        .await;

    aws.ok(&["medialive", "start-channel", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "wait", "channel-running", "--channel-id", &channel_id])
        .await;
    let refused = aws
        .fails(&["medialive", "delete-channel", "--channel-id", &channel_id])
        .await;
    assert!(
        refused.contains("ConflictException") && refused.contains("has not been stopped"),
        "{refused}"
    );
    let listed = aws.ok(&["medialive", "list-channels"]).await;
    assert_eq!(listed["Channels"][0]["State"], "RUNNING");
    assert_eq!(
        listed["Channels"][0]["Tags"]["livestream.io/managed-by"],
        "aws-cli-test"
    );

    aws.ok(&["medialive", "stop-channel", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "wait", "channel-stopped", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "delete-channel", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "wait", "channel-deleted", "--channel-id", &channel_id])
        .await;
    aws.ok(&["medialive", "delete-input", "--input-id", &input_id]).await;
    aws.ok(&["medialive", "wait", "input-deleted", "--input-id", &input_id])
        .await;
    aws.ok(&[
        "medialive",
        "delete-input-security-group",
        "--input-security-group-id",
        &sg_id,
    ])
    .await;
    let gone = aws
        .fails(&[
            "medialive",
            "describe-input-security-group",
            "--input-security-group-id",
            &sg_id,
        ])
        .await;
    assert!(gone.contains("NotFoundException"), "{gone}");

    let refused = aws
        .fails(&["mediapackage", "delete-channel", "--id", "cli-channel"])
        .await;
    assert!(refused.contains("UnprocessableEntityException"), "{refused}");
    aws.ok(&["mediapackage", "delete-origin-endpoint", "--id", "cli-hls"])
        .await;
    aws.ok(&["mediapackage", "delete-channel", "--id", "cli-channel"]).await;
    assert_eq!(
        aws.ok(&["mediapackage", "list-channels"]).await["Channels"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn aws_cli_publishes_a_page_that_a_browser_can_read_only_under_the_public_prefix() {
    let cloud = LocalCloud::start(&[]).await;
    let aws = Cli { cloud: &cloud };
    let page = cloud.data_dir.join("index.html");
    std::fs::create_dir_all(&cloud.data_dir).unwrap();
    std::fs::write(&page, "<h1>player</h1>").unwrap();
    let page = page.to_str().unwrap();

    aws.ok(&["s3api", "create-bucket", "--bucket", "player-pages"]).await;
    for key in ["public/launch/index.html", "private/notes.html"] {
        aws.ok(&[
            "s3api",
            "put-object",
            "--bucket",
            "player-pages",
            "--key",
            key,
            "--body",
            page,
            "--content-type",
            "text/html",
            "--cache-control",
            "max-age=60",
        ])
        .await;
    }
    let head = aws
        .ok(&[
            "s3api",
            "head-object",
            "--bucket",
            "player-pages",
            "--key",
            "public/launch/index.html",
        ])
        .await;
    assert_eq!(head["ContentType"], "text/html");
    assert_eq!(head["CacheControl"], "max-age=60");

    let url = |key: &str| format!("{}/player-pages/{key}", cloud.endpoint);
    assert_eq!(
        http_get(&url("public/launch/index.html")).await.0,
        403,
        "private until a policy says otherwise"
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*",
        "Action":"s3:GetObject","Resource":"arn:aws:s3:::player-pages/public/*"}]}"#;
    // A new bucket blocks public policies (S3 Block Public Access, on since April 2023)...
    let put_policy = [
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "player-pages",
        "--policy",
        policy,
    ];
    let refused = aws.fails(&put_policy).await;
    assert!(
        refused.contains("AccessDenied") && refused.contains("BlockPublicPolicy"),
        "{refused}"
    );
    let block = aws
        .ok(&["s3api", "get-public-access-block", "--bucket", "player-pages"])
        .await;
    assert_eq!(block["PublicAccessBlockConfiguration"]["BlockPublicPolicy"], true);
    // ...until its owner allows them.
    aws.ok(&[
        "s3api",
        "put-public-access-block",
        "--bucket",
        "player-pages",
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false",
    ])
    .await;
    aws.ok(&put_policy).await;
    let stored = aws
        .ok(&["s3api", "get-bucket-policy", "--bucket", "player-pages"])
        .await;
    assert!(text(&stored["Policy"]).contains("player-pages/public/*"));
    assert_eq!(
        http_get(&url("public/launch/index.html")).await,
        (200, "<h1>player</h1>".to_owned())
    );
    assert_eq!(
        http_get(&url("private/notes.html")).await.0,
        403,
        "outside the public prefix"
    );

    let download = cloud.data_dir.join("download.html");
    aws.ok(&[
        "s3api",
        "get-object",
        "--bucket",
        "player-pages",
        "--key",
        "private/notes.html",
        download.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        std::fs::read_to_string(Path::new(&download)).unwrap(),
        "<h1>player</h1>"
    );
    for key in ["public/launch/index.html", "private/notes.html"] {
        aws.ok(&["s3api", "delete-object", "--bucket", "player-pages", "--key", key])
            .await;
    }
    aws.ok(&["s3api", "delete-bucket", "--bucket", "player-pages"]).await;
    assert_eq!(
        aws.ok(&["s3api", "list-buckets"]).await["Buckets"],
        serde_json::json!([])
    );
}
