//! Everything MediaLive can do: a stream whose ladder gains an H.265 QVBR rendition, a captions
//! selector and an input-loss slate through `spec.encoding.overrides` plays hevc beside h264, and
//! `kubectl livestream render` prints the request MediaLive holds. A change AWS refuses on a
//! running stream under `updatePolicy: Restart` is caught by a dry run: the event runs on and the
//! refusal is in status. A console edit of a member the overrides set is corrected on the next
//! resync, while members AWS fills with its defaults cost no update at all.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};

use crate::event_ops::plugin_ok;
use crate::support::checks::assert_exactly_one_each;
use crate::support::cloud::{LocalCloud, eventually, http_get, publish};
use crate::support::cluster::{kubectl, kubectl_apply, kubectl_ok, namespace};
use crate::support::operator::{Operator, condition, kubectl_wait, patch, status};
use crate::support::tools::{Cli, probe_streams};

const QUALITY: u64 = 7;

fn manifest(ns: &str, name: &str) -> String {
    format!(
        r#"apiVersion: media.livestream.io/v1alpha1
kind: LiveStream
metadata: {{name: {name}, namespace: {ns}}}
spec:
  running: true
  updatePolicy: Restart
  delivery: {{mode: Direct}}
  website: {{enabled: false}}
  input: {{allowedCidrs: [127.0.0.0/8]}}
  packaging: {{hls: {{segmentDurationSeconds: 2, playlistWindowSeconds: 12}}}}
  encoding:
    renditions: [{{name: 360p, width: 640, height: 360, bitsPerSecond: 800000}}]
    overrides:
      merge:
        EncoderSettings:
          GlobalConfiguration:
            InputLossBehavior: {{InputLossImageType: COLOR, InputLossImageColor: "000000"}}
      patch:
      - op: add
        path: /EncoderSettings/VideoDescriptions/-
        value:
          Name: video_hevc
          Width: 640
          Height: 360
          CodecSettings:
            H265Settings: {{RateControlMode: QVBR, QvbrQualityLevel: {QUALITY}, MaxBitrate: 1000000,
              FramerateNumerator: 30, FramerateDenominator: 1,
              GopSize: 2, GopSizeUnits: SECONDS, ParNumerator: 1, ParDenominator: 1}}
      - op: add
        path: /EncoderSettings/OutputGroups/0/Outputs/-
        value: {{OutputName: hevc, VideoDescriptionName: video_hevc, AudioDescriptionNames: [audio_aac],
          OutputSettings: {{MediaPackageOutputSettings: {{}}}}}}
      - op: add
        path: /InputAttachments/0/InputSettings/CaptionSelectors
        value: [{{Name: captions, SelectorSettings: {{EmbeddedSourceSettings: {{Source608ChannelNumber: 1}}}}}}]
"#
    )
}

/// Calls livestream-local answered, by operation.
async fn calls(cloud: &LocalCloud) -> HashMap<String, u64> {
    let (_, body) = cloud.get("/_local/calls").await;
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    let mut all = HashMap::new();
    for row in rows {
        *all.entry(row["operation"].as_str().unwrap().to_owned()).or_default() += row["count"].as_u64().unwrap();
    }
    all
}

fn count(calls: &HashMap<String, u64>, operation: &str) -> u64 {
    calls.get(operation).copied().unwrap_or(0)
}

/// The channel as the AWS CLI describes it.
async fn describe(cloud: &LocalCloud, id: &str) -> Value {
    Cli { cloud }
        .ok(&["medialive", "describe-channel", "--channel-id", id])
        .await
}

/// A console edit: UpdateChannel with the encoder settings as `edit` leaves them.
async fn console_edit(cloud: &LocalCloud, id: &str, edit: impl Fn(&mut Value)) {
    let mut encoder = describe(cloud, id).await["EncoderSettings"].clone();
    edit(&mut encoder);
    let file = std::env::temp_dir().join(format!("console-edit-{id}-{}.json", std::process::id()));
    std::fs::write(&file, json!({"ChannelId": id, "EncoderSettings": encoder}).to_string()).unwrap();
    let input = format!("file://{}", file.display());
    Cli { cloud }
        .ok(&["medialive", "update-channel", "--cli-input-json", &input])
        .await;
}

/// `kubectl patch --type json`, as a user edits a list in place.
fn json_patch(ns: &str, name: &str, ops: &Value) {
    kubectl_ok(&["patch", "lvs", name, "-n", ns, "--type", "json", "-p", &ops.to_string()]);
}

/// The `Degraded` condition's message, once its reason is `reason`.
async fn degraded_by(ns: &str, name: &str, reason: &str) -> String {
    eventually(&format!("Degraded ({reason})"), Duration::from_secs(30), || async {
        let degraded = condition(ns, name, "Degraded");
        (degraded["reason"] == reason).then(|| degraded["message"].as_str().unwrap().to_owned())
    })
    .await
}

fn events(ns: &str) -> String {
    kubectl_ok(&["get", "events", "-n", ns, "-o", "json"])
}

#[tokio::test]
async fn overrides_add_an_hevc_rendition_that_plays_a_refused_change_keeps_the_event_running_and_drift_is_corrected() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("overrides");
    // Encoder settings are read in full (DescribeChannel) at this bound, every resync here: how
    // soon a console edit is seen (default one hour; account-wide listings catch the rest).
    let _operator = Operator::start_with(&cloud, &ns, &["--full-read-seconds", "3"]).await;
    let name = "keynote";
    kubectl_apply(&manifest(&ns, name));
    kubectl_wait(&ns, "jsonpath={.status.state}=RUNNING", name, Duration::from_secs(90));
    let channel = status(&ns, name)["aws"]["channelId"].as_str().unwrap().to_owned();

    // The encoder pushes: the HLS ladder carries the H.265 rendition beside the H.264 one.
    let ingest = status(&ns, name)["ingestUrl"].as_str().unwrap().to_owned();
    let mut encoder = publish(&ingest, 600);
    let playback = status(&ns, name)["playbackUrl"].as_str().unwrap().to_owned();
    eventually("the playlist", Duration::from_secs(60), || async {
        (http_get(&playback).await.0 == 200).then_some(())
    })
    .await;
    let streams = probe_streams(&playback).await;
    assert!(streams.contains(&"hevc 640x360".to_owned()), "{streams:?}");
    assert!(streams.contains(&"h264 640x360".to_owned()), "{streams:?}");
    assert_eq!(
        status(&ns, name)["channel"]["video"],
        json!(["video_360p: H264 640x360", "video_hevc: H265 640x360"])
    );

    // `kubectl livestream render` prints what MediaLive holds: the AWS CLI describes it back.
    let rendered: Value = serde_json::from_str(&plugin_ok(&["render", name, "-n", &ns], &[])).unwrap();
    let described = describe(&cloud, &channel).await;
    for member in [
        "EncoderSettings",
        "InputAttachments",
        "Destinations",
        "InputSpecification",
    ] {
        let drift = livestream_operator::desired::overlay::drift(&rendered[member], &described[member]);
        assert_eq!(drift, None, "{member} as rendered is what MediaLive holds");
    }
    // `--wire`: the same request as the HTTP body, in MediaLive's wire names, tag keys as they are.
    let wire: Value = serde_json::from_str(&plugin_ok(&["render", name, "-n", &ns, "--wire"], &[])).unwrap();
    assert_eq!(wire["encoderSettings"]["videoDescriptions"][1]["name"], "video_hevc");
    assert_eq!(wire["tags"]["livestream.io/uid"], rendered["Tags"]["livestream.io/uid"]);
    let selectors = &described["InputAttachments"][0]["InputSettings"]["CaptionSelectors"];
    assert_eq!(selectors[0]["Name"], "captions", "{selectors}");
    let slate = &described["EncoderSettings"]["GlobalConfiguration"]["InputLossBehavior"];
    assert_eq!(slate["InputLossImageType"], "COLOR");

    // A change AWS refuses — an audio track no output carries — is caught by a dry run: the
    // channel is not stopped, and status says what AWS said, member path and all.
    let before = calls(&cloud).await;
    let refused = json!([{"op": "add", "path": "/spec/encoding/overrides/patch/-", "value":
        {"op": "add", "path": "/EncoderSettings/AudioDescriptions/-", "value":
            {"Name": "audio_fr", "AudioSelectorName": "default", "CodecSettings": {"AacSettings": {"Bitrate": 96000}}}}}]);
    json_patch(&ns, name, &refused);
    let message = degraded_by(&ns, name, "ChangeRefused").await;
    assert!(
        message.contains("is not referenced by any output") && message.contains("audio_fr"),
        "{message}"
    );
    assert!(message.contains("was not stopped"), "{message}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(status(&ns, name)["state"], "RUNNING", "the event runs on");
    let after = calls(&cloud).await;
    assert_eq!(
        count(&after, "StopChannel"),
        count(&before, "StopChannel"),
        "never stopped"
    );
    assert!(
        probe_streams(&playback).await.contains(&"hevc 640x360".to_owned()),
        "it still plays as before"
    );
    // The rest needs no media: the encoder stops, and with it two encodes (x265's is heavy) that
    // would slow the stories running beside this one.
    encoder.kill().await.unwrap();

    // The user takes the bad operation out: the stream is Ready again, never having stopped.
    let fixed = json!([{"op": "remove", "path": "/spec/encoding/overrides/patch/3"}]);
    json_patch(&ns, name, &fixed);
    kubectl_wait(&ns, "condition=Ready", name, Duration::from_secs(30));

    // A misspelt member (MediaLive would not hold it, so drift would ask for it forever) is
    // refused before any call, named with the member meant; the event runs on.
    let before = calls(&cloud).await;
    let misspelt = json!([{"op": "add", "path": "/spec/encoding/overrides/merge/EncoderSettings/GlobalConfiguration/InputLossBehavior/RepeatFrameMs", "value": 1000}]);
    json_patch(&ns, name, &misspelt);
    let message = degraded_by(&ns, name, "InvalidSpec").await;
    assert!(
        message.contains("EncoderSettings.GlobalConfiguration.InputLossBehavior: \"RepeatFrameMs\"")
            && message.contains("did you mean \"RepeatFrameMsec\"?"),
        "{message}"
    );
    assert_eq!(status(&ns, name)["state"], "RUNNING", "the event runs on");
    let after = calls(&cloud).await;
    for operation in ["UpdateChannel", "StopChannel"] {
        assert_eq!(count(&after, operation), count(&before, operation), "no {operation}");
    }
    let fixed = json!([{"op": "remove", "path": "/spec/encoding/overrides/merge/EncoderSettings/GlobalConfiguration/InputLossBehavior/RepeatFrameMs"}]);
    json_patch(&ns, name, &fixed);
    kubectl_wait(&ns, "condition=Ready", name, Duration::from_secs(30));

    // Stopped, the channel is edited in the console. Members AWS fills with its defaults are no
    // drift: three resyncs make no update call, dry or real.
    patch(&ns, name, r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", name, Duration::from_secs(30));
    console_edit(&cloud, &channel, |encoder| {
        let h264 = &mut encoder["VideoDescriptions"][0]["CodecSettings"]["H264Settings"];
        h264["AfdSignaling"] = json!("NONE");
        h264["ColorMetadata"] = json!("INSERT");
        h264["FlickerAq"] = json!("ENABLED");
        encoder["VideoDescriptions"][0]["Sharpness"] = json!(50);
    })
    .await;
    let before = calls(&cloud).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = calls(&cloud).await;
    assert_eq!(
        count(&after, "UpdateChannel"),
        count(&before, "UpdateChannel"),
        "a default is not drift"
    );
    assert!(
        count(&after, "DescribeChannel") > count(&before, "DescribeChannel"),
        "it looked"
    );

    // A console edit of what the overrides set is corrected on the next resync, and the event
    // names the member that differed.
    console_edit(&cloud, &channel, |encoder| {
        encoder["VideoDescriptions"][1]["CodecSettings"]["H265Settings"]["QvbrQualityLevel"] = json!(3);
    })
    .await;
    let quality = "/EncoderSettings/VideoDescriptions/1/CodecSettings/H265Settings/QvbrQualityLevel";
    eventually("the edit corrected", Duration::from_secs(20), || async {
        events(&ns).contains(quality).then_some(())
    })
    .await;
    let described = describe(&cloud, &channel).await;
    let h265 = &described["EncoderSettings"]["VideoDescriptions"][1]["CodecSettings"]["H265Settings"];
    assert_eq!(h265["QvbrQualityLevel"], QUALITY);

    // Deleted, nothing is left.
    kubectl_ok(&["delete", "lvs", name, "-n", &ns, "--timeout", "90s"]);
    assert!(!kubectl(&["get", "lvs", name, "-n", &ns]).status.success());
    assert_exactly_one_each(&cloud.aws, &[]).await;
}

#[tokio::test]
async fn a_pinned_engine_version_shows_in_status_and_weeks_before_it_expires_the_newer_one_is_named() {
    // livestream-local offers 2.4.0, expiring in 14 days, and 2.5.0, in 194.
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("engine");
    let _operator = Operator::start(&cloud, &ns).await;
    let name = "rehearsal";
    kubectl_apply(&format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  engineVersion: 2.4.0\n  delivery: {{mode: Direct}}\n  website: {{enabled: false}}\n"
    ));
    kubectl_wait(&ns, "condition=EngineExpiring", name, Duration::from_secs(60));
    assert_eq!(status(&ns, name)["channel"]["engineVersion"], "2.4.0");
    assert!(status(&ns, name)["channel"]["engineExpiresAt"].is_string());
    let expiring = condition(&ns, name, "EngineExpiring");
    assert_eq!(expiring["reason"], "EngineVersionExpiring");
    let message = expiring["message"].as_str().unwrap();
    assert!(message.contains("spec.engineVersion: 2.5.0"), "{message}");

    // The user moves to the version named: the channel is updated, and the condition clears.
    patch(&ns, name, r#"{"engineVersion":"2.5.0"}"#);
    kubectl_wait(&ns, "condition=EngineExpiring=False", name, Duration::from_secs(30));
    assert_eq!(status(&ns, name)["channel"]["engineVersion"], "2.5.0");
    kubectl_ok(&["delete", "lvs", name, "-n", &ns, "--timeout", "60s"]);
    assert_exactly_one_each(&cloud.aws, &[]).await;
}
