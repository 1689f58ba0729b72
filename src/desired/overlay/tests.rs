use serde_json::json;

use super::*;
use crate::api::ChannelOverrides;

fn overlay(overrides: serde_json::Value) -> Overlay {
    let overrides: ChannelOverrides = serde_json::from_value(overrides).unwrap();
    Overlay::of(Some(&overrides)).unwrap()
}

fn request() -> Value {
    json!({
        "Name": "launch",
        "InputAttachments": [{"InputId": "1", "InputSettings": {"AudioSelectors": [{"Name": "default"}]}}],
        "EncoderSettings": {
            "VideoDescriptions": [{"Name": "video_720p", "Width": 1280}],
            "OutputGroups": [{"Name": "hls", "Outputs": [{"OutputName": "720p", "VideoDescriptionName": "video_720p"}]}],
        },
    })
}

#[test]
fn merge_then_patch_adds_a_rendition_an_output_and_a_slate() {
    let overlay = overlay(json!({
        "merge": {"EncoderSettings": {"GlobalConfiguration": {"InputLossBehavior": {"InputLossImageType": "COLOR", "InputLossImageColor": "000000"}}}},
        "patch": [
            {"op": "add", "path": "/EncoderSettings/VideoDescriptions/-", "value": {"Name": "video_hevc", "CodecSettings": {"H265Settings": {"RateControlMode": "QVBR"}}}},
            {"op": "add", "path": "/EncoderSettings/OutputGroups/0/Outputs/-", "value": {"OutputName": "hevc", "VideoDescriptionName": "video_hevc"}},
            {"op": "add", "path": "/InputAttachments/0/InputSettings/CaptionSelectors", "value": [{"Name": "cc", "SelectorSettings": {"EmbeddedSourceSettings": {}}}]},
        ],
    }));
    let mut request = request();
    overlay.apply(&mut request).unwrap();
    let encoder = &request["EncoderSettings"];
    assert_eq!(encoder["VideoDescriptions"][1]["Name"], "video_hevc");
    assert_eq!(encoder["VideoDescriptions"][0]["Width"], 1280, "the ladder stays");
    assert_eq!(
        encoder["OutputGroups"][0]["Outputs"][1]["VideoDescriptionName"],
        "video_hevc"
    );
    assert_eq!(
        encoder["GlobalConfiguration"]["InputLossBehavior"]["InputLossImageType"],
        "COLOR"
    );
    assert_eq!(
        request["InputAttachments"][0]["InputSettings"]["CaptionSelectors"][0]["Name"],
        "cc"
    );
    assert_eq!(
        request["InputAttachments"][0]["InputId"], "1",
        "the operator's members stay"
    );
}

#[test]
fn the_overrides_win_where_both_speak_and_null_removes() {
    let overlay = overlay(
        json!({"merge": {"EncoderSettings": {"TimecodeConfig": {"Source": "EMBEDDED"}, "VideoDescriptions": null}}}),
    );
    let mut request = request();
    request["EncoderSettings"]["TimecodeConfig"] = json!({"Source": "SYSTEMCLOCK"});
    overlay.apply(&mut request).unwrap();
    assert_eq!(request["EncoderSettings"]["TimecodeConfig"]["Source"], "EMBEDDED");
    assert!(request["EncoderSettings"].get("VideoDescriptions").is_none());
}

#[test]
fn an_operation_that_does_not_apply_is_named_and_changes_nothing() {
    let overlay = overlay(json!({"patch": [
        {"op": "replace", "path": "/EncoderSettings/VideoDescriptions/0/Width", "value": 1920},
        {"op": "replace", "path": "/EncoderSettings/VideoDescriptions/5/Width", "value": 640},
    ]}));
    let mut request = request();
    let error = overlay.apply(&mut request).unwrap_err();
    assert!(
        error.starts_with("spec.encoding.overrides.patch[1] does not apply"),
        "{error}"
    );
    assert_eq!(request, self::request(), "unchanged");
    let failed_test = self::overlay(
        json!({"patch": [{"op": "test", "path": "/EncoderSettings/VideoDescriptions/0/Width", "value": 1920}]}),
    );
    assert!(failed_test.apply(&mut request).unwrap_err().contains("patch[0]"));
}

#[test]
fn the_wire_spells_every_member_with_a_small_first_letter_and_back() {
    let wire = to_wire(&request());
    assert_eq!(wire["encoderSettings"]["videoDescriptions"][0]["name"], "video_720p");
    assert_eq!(
        wire["inputAttachments"][0]["inputSettings"]["audioSelectors"][0]["name"],
        "default"
    );
    assert_eq!(from_wire(&wire), request());
}

#[test]
fn a_whole_request_on_the_wire_keeps_its_tag_keys() {
    let mut tagged = request();
    tagged["Tags"] = json!({"Team": "events", "livestream.io/uid": "u-1"});
    let wire = request_to_wire(&tagged);
    assert_eq!(wire["tags"], json!({"Team": "events", "livestream.io/uid": "u-1"}));
    assert_eq!(wire["encoderSettings"]["videoDescriptions"][0]["width"], 1280);
    assert!(wire.get("Tags").is_none());
}

#[test]
fn drift_is_what_was_asked_and_is_not_held_and_never_a_default_aws_adds() {
    let asked = request();
    let mut described = asked.clone();
    described["EncoderSettings"]["VideoDescriptions"][0]["ScalingBehavior"] = json!("DEFAULT");
    described["EncoderSettings"]["VideoDescriptions"][0]["Sharpness"] = json!(50);
    described["LogLevel"] = json!("DISABLED");
    assert_eq!(drift(&asked, &described), None, "AWS's defaults");
    described["EncoderSettings"]["VideoDescriptions"][0]["Width"] = json!(1280.0);
    assert_eq!(drift(&asked, &described), None, "the same number");
    described["EncoderSettings"]["VideoDescriptions"][0]["Width"] = json!(640);
    assert_eq!(
        drift(&asked, &described).as_deref(),
        Some("/EncoderSettings/VideoDescriptions/0/Width"),
        "a console edit"
    );
    let mut one_more = asked.clone();
    one_more["EncoderSettings"]["OutputGroups"][0]["Outputs"]
        .as_array_mut()
        .unwrap()
        .push(json!({"OutputName": "extra"}));
    assert_eq!(
        drift(&asked, &one_more).as_deref(),
        Some("/EncoderSettings/OutputGroups/0/Outputs"),
        "an output added behind the operator's back"
    );
    let mut gone = asked.clone();
    gone["EncoderSettings"]
        .as_object_mut()
        .unwrap()
        .remove("VideoDescriptions");
    assert_eq!(
        drift(&asked, &gone).as_deref(),
        Some("/EncoderSettings/VideoDescriptions")
    );
    let empty = json!({"OutputSettings": {"MediaPackageOutputSettings": {}}});
    assert_eq!(
        drift(&empty, &json!({"OutputSettings": {}})),
        None,
        "an empty member left out"
    );
}

/// What DescribeChannel answers for a MediaPackage rendition, in the shape of public answers of
/// real channels (console exports in github.com/scunning1987/medialive_multi_channel_controller
/// and github.com/Couchtour-tv/couchtourtv-api): the members asked for among a dozen AWS fills.
fn described_rendition() -> Value {
    json!({
        "Name": "video_540p", "Width": 960, "Height": 540,
        "RespondToAfd": "NONE", "Sharpness": 50, "ScalingBehavior": "DEFAULT",
        "CodecSettings": {"H264Settings": {
            "AfdSignaling": "NONE", "ColorMetadata": "IGNORE", "AdaptiveQuantization": "MEDIUM",
            "Bitrate": 1800000, "EntropyEncoding": "CABAC", "FlickerAq": "ENABLED",
            "ForceFieldPictures": "DISABLED", "FramerateControl": "SPECIFIED",
            "FramerateNumerator": 30, "FramerateDenominator": 1, "GopBReference": "DISABLED",
            "GopClosedCadence": 1, "GopNumBFrames": 2, "GopSize": 2.0, "GopSizeUnits": "SECONDS",
            "SubgopLength": "FIXED", "ScanType": "PROGRESSIVE", "Level": "H264_LEVEL_AUTO",
            "LookAheadRateControl": "MEDIUM", "NumRefFrames": 1, "ParControl": "SPECIFIED",
            "Profile": "HIGH", "RateControlMode": "CBR", "Syntax": "DEFAULT", "SceneChangeDetect": "ENABLED",
            "SpatialAq": "ENABLED", "TemporalAq": "ENABLED", "TimecodeInsertion": "DISABLED",
        }},
    })
}

#[test]
fn a_real_answer_full_of_defaults_holds_the_rendition_asked_for() {
    let asked = json!({
        "Name": "video_540p", "Width": 960, "Height": 540,
        "CodecSettings": {"H264Settings": {
            "Bitrate": 1800000, "RateControlMode": "CBR", "FramerateControl": "SPECIFIED",
            "FramerateNumerator": 30, "FramerateDenominator": 1, "GopSize": 2, "GopSizeUnits": "SECONDS",
            "Profile": "HIGH", "Level": "H264_LEVEL_AUTO", "ScanType": "PROGRESSIVE",
        }},
    });
    assert_eq!(drift(&asked, &described_rendition()), None);
    // An output as answered: the caption list AWS adds is no drift; the destination's empty lists
    // beside the MediaPackage settings neither.
    let output = json!({"OutputName": "540p", "VideoDescriptionName": "video_540p",
        "AudioDescriptionNames": ["audio_aac"], "OutputSettings": {"MediaPackageOutputSettings": {}}});
    let mut answered = output.clone();
    answered["CaptionDescriptionNames"] = json!([]);
    assert_eq!(drift(&output, &answered), None);
    let destination = json!({"Id": "mediapackage", "MediaPackageSettings": [{"ChannelId": "launch"}]});
    let answered = json!({"Id": "mediapackage", "Settings": [], "MediaPackageSettings": [{"ChannelId": "launch"}]});
    assert_eq!(drift(&destination, &answered), None);
    // A console edit of a member asked for is drift, named.
    let mut edited = described_rendition();
    edited["CodecSettings"]["H264Settings"]["Bitrate"] = json!(1500000);
    assert_eq!(
        drift(&asked, &edited).as_deref(),
        Some("/CodecSettings/H264Settings/Bitrate")
    );
}
