//! livestream-local is as strict as AWS: the catalogue of wrong requests
//! (tests/fixtures/aws-refusals.json), sent raw over HTTP as no SDK would send them, each refused
//! with AWS's status, error type and words; and the valid requests they were made from accepted and
//! described back as sent (over-strictness is a defect too).

use serde_json::{Value, json};

use crate::support::cloud::{LocalCloud, eventually, publish};
use crate::support::tools::{Cli, ffprobe, raw};

/// `set` (JSON pointer → value; an index one past the end appends) and `remove` applied to `base`.
fn altered(mut body: Value, case: &Value) -> Value {
    for (pointer, value) in case["set"].as_object().into_iter().flatten() {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match body.pointer_mut(parent).unwrap() {
            Value::Array(items) => {
                let index: usize = key.parse().unwrap();
                if index == items.len() {
                    items.push(value.clone());
                } else {
                    items[index] = value.clone();
                }
            }
            Value::Object(map) => {
                map.insert(key.to_owned(), value.clone());
            }
            other => panic!("{pointer}: cannot set inside {other}"),
        }
    }
    for pointer in case["remove"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    }
    body
}

#[tokio::test]
async fn livestream_local_refuses_what_aws_refuses_with_aws_words_and_accepts_the_rest() {
    let cloud = LocalCloud::start(&[]).await;
    let package = cloud
        .aws
        .mediapackage
        .create_channel()
        .id("refusals-mp")
        .send()
        .await
        .unwrap();
    let rule = aws_sdk_medialive::types::InputWhitelistRuleCidr::builder()
        .cidr("127.0.0.0/8")
        .build();
    let group = (cloud.aws.medialive.create_input_security_group())
        .whitelist_rules(rule)
        .send()
        .await
        .unwrap();
    let group = group.security_group.unwrap().id.unwrap();
    let fixture = crate::support::files::read("tests/fixtures/aws-refusals.json");
    let input = {
        let (status, _, answer) = raw(
            &cloud,
            "medialive",
            "POST",
            "/prod/inputs",
            Some(
                &json!({"name": "refusals-in", "type": "RTMP_PUSH", "inputSecurityGroups": [group],
                "destinations": [{"streamName": "live/a"}]}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        answer["input"]["id"].as_str().unwrap().to_owned()
    };
    let fill = |text: &str| {
        text.replace("{input}", &input)
            .replace("{packageChannel}", package.id().unwrap())
    };
    let fixture: Value = serde_json::from_str(&fill(&fixture)).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "the catalogue holds {} cases", cases.len());

    let mut wrong = Vec::new();
    for case in cases {
        let body = match case["base"].as_str() {
            Some(base) => Some(altered(fixture["bases"][base].clone(), case)),
            None => case.get("body").cloned(),
        };
        let (service, method, path) = (
            case["service"].as_str().unwrap(),
            case["method"].as_str().unwrap(),
            case["path"].as_str().unwrap(),
        );
        let (status, kind, answer) = raw(&cloud, service, method, path, body.as_ref()).await;
        let message = answer["message"].as_str().unwrap_or_default();
        let expected = (
            case["status"].as_u64().unwrap() as u16,
            case["type"].as_str().unwrap(),
            case["message"].as_str().unwrap(),
        );
        if (status, kind.as_str()) != (expected.0, expected.1) || !message.contains(expected.2) {
            wrong.push(format!(
                "{}: got {status} {kind} {answer}, want {} {} \"{}\"",
                case["what"], expected.0, expected.1, expected.2
            ));
        }
        // MediaLive lists every problem with its element path, as its console shows them.
        if service == "medialive" && status == 422 && expected.2.contains("must") {
            let listed = answer["validationErrors"].as_array().map_or(0, Vec::len);
            if listed == 0 {
                wrong.push(format!("{}: no validationErrors in {answer}", case["what"]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases answered otherwise:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );

    // The valid requests the catalogue alters are accepted and described back as sent.
    let channel = fixture["bases"]["channel"].clone();
    let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&channel)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_str().unwrap();
    let (_, _, described) = raw(&cloud, "medialive", "GET", &format!("/prod/channels/{id}"), None).await;
    assert_eq!(described["encoderSettings"], channel["encoderSettings"]);
    assert_eq!(described["destinations"], channel["destinations"]);
    let (status, _, endpoint) = raw(
        &cloud,
        "mediapackage",
        "POST",
        "/origin_endpoints",
        Some(&fixture["bases"]["endpoint"]),
    )
    .await;
    assert_eq!(status, 200, "{endpoint}");
    for case in fixture["accepted"].as_array().unwrap() {
        let mut channel = altered(fixture["bases"]["channel"].clone(), case);
        channel["name"] = "accepted".into();
        // An input of its own (an input feeds one channel).
        let mut input = fixture["bases"]["input"].clone();
        input["inputSecurityGroups"] = json!([group]);
        let (_, _, made) = raw(&cloud, "medialive", "POST", "/prod/inputs", Some(&input)).await;
        channel["inputAttachments"][0]["inputId"] = made["input"]["id"].clone();
        let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&channel)).await;
        assert_eq!(status, 201, "{}: {created}", case["what"]);
        let id = created["channel"]["id"].as_str().unwrap();
        let (_, _, described) = raw(&cloud, "medialive", "GET", &format!("/prod/channels/{id}"), None).await;
        assert_eq!(
            described["encoderSettings"], channel["encoderSettings"],
            "{}",
            case["what"]
        );
    }
}

#[tokio::test]
async fn hls_and_archive_groups_record_into_s3_what_the_aws_cli_downloads_and_ffprobe_plays() {
    let cloud = LocalCloud::start(&[]).await;
    let aws = Cli { cloud: &cloud };
    aws.ok(&["s3api", "create-bucket", "--bucket", "recordings-bucket"])
        .await;
    let group = aws
        .ok(&[
            "medialive",
            "create-input-security-group",
            "--whitelist-rules",
            "Cidr=127.0.0.0/8",
        ])
        .await;
    let group = group["SecurityGroup"]["Id"].as_str().unwrap();
    let input = aws
        .ok(&[
            "medialive",
            "create-input",
            "--name",
            "recorded",
            "--type",
            "RTMP_PUSH",
            "--input-security-groups",
            group,
            "--destinations",
            "StreamName=live/recorded",
        ])
        .await;
    let (input_id, ingest) = (
        input["Input"]["Id"].as_str().unwrap(),
        input["Input"]["Destinations"][0]["Url"].as_str().unwrap(),
    );
    aws.ok(&["mediapackage", "create-channel", "--id", "recorded-mp"]).await;
    // The catalogue's accepted channel: MediaPackage, HLS to S3 and Archive to S3 from one encode.
    let fixture = crate::support::files::read("tests/fixtures/aws-refusals.json")
        .replace("{input}", input_id)
        .replace("{packageChannel}", "recorded-mp");
    let fixture: Value = serde_json::from_str(&fixture).unwrap();
    let mut channel = altered(fixture["bases"]["channel"].clone(), &fixture["accepted"][0]);
    channel["name"] = "recorded".into();
    let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&channel)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_str().unwrap();
    aws.ok(&["medialive", "start-channel", "--channel-id", id]).await;
    aws.ok(&["medialive", "wait", "channel-running", "--channel-id", id])
        .await;

    let pushed = publish(ingest, 8).wait_with_output().await.unwrap();
    assert!(pushed.status.success(), "{}", String::from_utf8_lossy(&pushed.stderr));
    // The publisher left: the playlist ends and the archive's last file is closed.
    let listing = eventually(
        "the recording to be complete",
        std::time::Duration::from_secs(20),
        || {
            let aws = &aws;
            async move {
                let listing = aws
                    .ok(&["s3api", "list-objects-v2", "--bucket", "recordings-bucket"])
                    .await;
                let keys: Vec<String> = listing["Contents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| o["Key"].as_str().unwrap().to_owned())
                    .collect();
                keys.iter().any(|k| k == "archive/event_1.000001.m2ts").then_some(keys)
            }
        },
    )
    .await;
    for key in ["live/index.m3u8", "live/index_720p.m3u8", "live/index_720p_00001.ts"] {
        assert!(listing.iter().any(|k| k == key), "{key} missing from {listing:?}");
    }
    let dir = cloud.data_dir.join("downloaded");
    let target = dir.to_str().unwrap();
    aws.ok(&[
        "s3",
        "cp",
        "--recursive",
        "--only-show-errors",
        "s3://recordings-bucket/",
        target,
    ])
    .await;
    let playlist = std::fs::read_to_string(dir.join("live/index_720p.m3u8")).unwrap();
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n"), "{playlist}");

    let probe = |path: std::path::PathBuf| async move {
        let path = path.to_str().unwrap().to_owned();
        ffprobe(&["-show_entries", "format=duration:stream=codec_name,width,height", &path]).await
    };
    for recorded in [dir.join("live/index.m3u8"), dir.join("archive/event_1.000001.m2ts")] {
        let probe = probe(recorded.clone()).await;
        let streams: Vec<String> = (probe["streams"].as_array().unwrap().iter())
            .map(|s| format!("{} {}x{}", s["codec_name"].as_str().unwrap(), s["width"], s["height"]))
            .collect();
        assert!(streams.contains(&"h264 1280x720".to_owned()), "{recorded:?}: {probe}");
        assert!(streams.iter().any(|s| s.starts_with("aac")), "{recorded:?}: {probe}");
        let seconds: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert!(
            (5.0..11.0).contains(&seconds),
            "{recorded:?} lasts {seconds} s: {probe}"
        );
    }
}
