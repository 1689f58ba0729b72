//! Every rule of the service, through the same path a request takes (the model check of http.rs,
//! then the handler), with AWS's error types on the wire.

use std::sync::LazyLock;

use axum::{
    body::Bytes,
    http::{HeaderValue, Method, StatusCode},
    response::IntoResponse,
};
use clap::Parser;
use serde_json::{Value, json};

use super::*;
use crate::model::Models;

static MODELS: LazyLock<Models> =
    LazyLock::new(|| Models::load(None).expect("botocore's models (hack/setup.sh installs them)"));

const BASE: &str = "http://127.0.0.1:4580";
const ARN: &str = "arn:aws:mediapackagev2:us-east-1:123456789012";

fn service_with(quotas: &str) -> MediaPackageV2 {
    let config = Config::try_parse_from([
        "livestream-local",
        "--listen",
        "127.0.0.1:4580",
        "--mediapackagev2-quotas",
        quotas,
    ])
    .unwrap();
    MediaPackageV2::new(config, MODELS.shared("mediapackagev2").unwrap())
}

fn service() -> MediaPackageV2 {
    service_with("")
}

/// One answer as a client sees it.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    error_type: Option<String>,
    body: Value,
}

impl Answer {
    /// The error's type and its `ValidationExceptionType` / `ConflictExceptionType` /
    /// `ResourceTypeNotFound`.
    fn refused(&self) -> (u16, &str, &str) {
        let typed = [
            "ValidationExceptionType",
            "ConflictExceptionType",
            "ResourceTypeNotFound",
        ]
        .iter()
        .find_map(|k| self.body[*k].as_str())
        .unwrap_or_default();
        (
            self.status.as_u16(),
            self.error_type.as_deref().unwrap_or_default(),
            typed,
        )
    }

    fn message(&self) -> &str {
        self.body["Message"].as_str().unwrap_or_default()
    }
}

fn call(mp: &MediaPackageV2, method: Method, target: &str, headers: &[(&str, &str)], body: Value) -> Answer {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let bytes = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let mut req = ApiRequest::new(method, path, query, bytes);
    for (name, value) in headers {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        req.headers.insert(name, HeaderValue::from_str(value).unwrap());
    }
    let operation = operation_name(&req);
    let model = MODELS.service("mediapackagev2").unwrap();
    let result = match crate::http::model_refusal(model, "mediapackagev2", operation, &req) {
        Some(refused) => Err(refused),
        None => mp.call(operation, &req),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => e.in_dialect_of("mediapackagev2").into_response(),
    };
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-ErrorType")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        error_type,
        body,
    }
}

fn post(mp: &MediaPackageV2, path: &str, body: Value) -> Answer {
    call(mp, Method::POST, path, &[], body)
}

fn get(mp: &MediaPackageV2, path: &str) -> Answer {
    call(mp, Method::GET, path, &[], Value::Null)
}

fn ok(answer: Answer) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body
}

/// A group `live` with an HLS channel `c1`.
fn with_channel() -> MediaPackageV2 {
    let mp = service();
    ok(post(&mp, "/channelGroup", json!({"ChannelGroupName": "live"})));
    ok(post(&mp, "/channelGroup/live/channel", json!({"ChannelName": "c1"})));
    mp
}

const ENDPOINTS: &str = "/channelGroup/live/channel/c1/originEndpoint";

fn create_endpoint(mp: &MediaPackageV2, body: Value) -> Answer {
    post(mp, ENDPOINTS, body)
}

fn ts(manifests: Value) -> Value {
    let mut body = json!({"OriginEndpointName": "e", "ContainerType": "TS"});
    body.as_object_mut()
        .unwrap()
        .extend(manifests.as_object().unwrap().clone());
    body
}

fn cmaf(manifests: Value) -> Value {
    let mut body = ts(manifests);
    body["ContainerType"] = json!("CMAF");
    body
}

#[test]
fn resources_are_described_with_their_defaults_and_urls() {
    let mp = service();
    let group = ok(post(
        &mp,
        "/channelGroup",
        json!({"ChannelGroupName": "live", "Description": "events", "tags": {"team": "video"}}),
    ));
    assert_eq!(group["Arn"], format!("{ARN}:channelGroup/live"));
    assert_eq!(group["EgressDomain"], "127.0.0.1:4580");
    assert_eq!(
        group["Tags"],
        json!({"team": "video"}),
        "CreateChannelGroupResponse spells it Tags"
    );
    assert!(group["CreatedAt"].as_f64().unwrap() > 1.7e9, "epoch seconds: {group}");
    assert_eq!(group["CreatedAt"], group["ModifiedAt"]);
    assert!(!group["ETag"].as_str().unwrap().is_empty());
    let described = ok(get(&mp, "/channelGroup/live"));
    assert_eq!(
        described["tags"],
        json!({"team": "video"}),
        "GetChannelGroupResponse spells it tags"
    );
    assert_eq!(described["Description"], "events");

    let channel = ok(post(&mp, "/channelGroup/live/channel", json!({"ChannelName": "c1"})));
    assert_eq!(channel["Arn"], format!("{ARN}:channelGroup/live/channel/c1"));
    assert_eq!(channel["InputType"], "HLS", "the default input type");
    assert_eq!(
        channel["IngestEndpoints"],
        json!([
            {"Id": "1", "Url": format!("{BASE}/in/v1/live/1/c1/index")},
            {"Id": "2", "Url": format!("{BASE}/in/v1/live/2/c1/index")},
        ])
    );
    let cmaf_channel = ok(post(
        &mp,
        "/channelGroup/live/channel",
        json!({"ChannelName": "c2", "InputType": "CMAF"}),
    ));
    assert_eq!(cmaf_channel["InputType"], "CMAF");

    let endpoint = ok(create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "index"}]})),
    ));
    assert_eq!(
        endpoint["Arn"],
        format!("{ARN}:channelGroup/live/channel/c1/originEndpoint/e")
    );
    assert_eq!(
        endpoint["Segment"],
        json!({"SegmentDurationSeconds": 6, "SegmentName": "segment", "TsUseAudioRenditionGroup": false,
               "IncludeIframeOnlyStreams": false, "TsIncludeDvbSubtitles": false})
    );
    assert_eq!(
        endpoint["HlsManifests"],
        json!([{"ManifestName": "index", "ManifestWindowSeconds": 60,
                "Url": format!("{BASE}/out/v1/live/c1/e/index.m3u8")}])
    );
    assert_eq!(endpoint["UriSeparator"], "UNDERSCORE");
    assert!(endpoint.get("DashManifests").is_none());

    let all = ok(create_endpoint(
        &mp,
        cmaf(json!({
            "OriginEndpointName": "all",
            "Segment": {"SegmentDurationSeconds": 2, "SegmentName": "seg"},
            "StartoverWindowSeconds": 300,
            "HlsManifests": [{"ManifestName": "hls", "ManifestWindowSeconds": 120, "ProgramDateTimeIntervalSeconds": 10,
                              "FilterConfiguration": {"ManifestFilter": "video_height:240-1080"}}],
            "LowLatencyHlsManifests": [{"ManifestName": "llhls"}],
            "DashManifests": [{"ManifestName": "dash"}],
        })),
    ));
    assert_eq!(all["Segment"]["SegmentDurationSeconds"], 2);
    assert_eq!(all["Segment"]["SegmentName"], "seg");
    assert_eq!(all["StartoverWindowSeconds"], 300);
    let hls = &all["HlsManifests"][0];
    assert_eq!(
        (&hls["ManifestWindowSeconds"], &hls["ProgramDateTimeIntervalSeconds"]),
        (&json!(120), &json!(10))
    );
    assert_eq!(hls["FilterConfiguration"]["ManifestFilter"], "video_height:240-1080");
    assert_eq!(
        all["LowLatencyHlsManifests"][0]["Url"],
        format!("{BASE}/out/v1/live/c1/all/llhls.m3u8")
    );
    assert_eq!(
        all["DashManifests"][0]["Url"],
        format!("{BASE}/out/v1/live/c1/all/dash.mpd")
    );

    // Listings carry the list shapes only (no ETag, no tags, manifests as name and URL).
    let listed = ok(get(&mp, ENDPOINTS));
    let items = listed["Items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["OriginEndpointName"], "all");
    assert!(items[0].get("ETag").is_none() && items[0].get("Segment").is_none());
    assert_eq!(
        items[0]["HlsManifests"],
        json!([{"ManifestName": "hls", "Url": format!("{BASE}/out/v1/live/c1/all/hls.m3u8")}])
    );
    assert!(listed.get("NextToken").is_none());
    let groups = ok(get(&mp, "/channelGroup"));
    assert_eq!(groups["Items"][0]["ChannelGroupName"], "live");
    assert!(
        groups["Items"][0].get("EgressDomain").is_none(),
        "not in ChannelGroupListConfiguration"
    );
}

#[test]
fn the_model_refuses_what_it_does_not_allow() {
    let mp = with_channel();
    let refused = |answer: Answer| answer.refused().2.to_owned();
    // Patterns, at every location: body, path, header.
    let bad_name = post(&mp, "/channelGroup", json!({"ChannelGroupName": "my group"}));
    assert_eq!(
        bad_name.refused(),
        (400, "ValidationException", "MEMBER_DOES_NOT_MATCH_PATTERN")
    );
    assert_eq!(
        bad_name.message(),
        "ChannelGroupName must match the pattern [a-zA-Z0-9_-]+ (got \"my group\")"
    );
    assert_eq!(
        refused(get(&mp, "/channelGroup/my%20group")),
        "MEMBER_DOES_NOT_MATCH_PATTERN"
    );
    let stale = call(
        &mp,
        Method::PUT,
        "/channelGroup/live",
        &[("x-amzn-update-if-match", " ")],
        json!({}),
    );
    assert_eq!(
        stale.refused(),
        (400, "ValidationException", "MEMBER_DOES_NOT_MATCH_PATTERN")
    );
    assert_eq!(
        refused(create_endpoint(
            &mp,
            ts(json!({"HlsManifests": [{"ManifestName": "in_dex"}]}))
        )),
        "MEMBER_DOES_NOT_MATCH_PATTERN",
        "manifest names allow no underscore"
    );
    // Required members, types, enums, ranges and lengths.
    let missing = create_endpoint(&mp, json!({"OriginEndpointName": "e"}));
    assert_eq!(missing.refused(), (400, "ValidationException", "MEMBER_MISSING"));
    assert_eq!(missing.message(), "ContainerType is required");
    assert_eq!(
        refused(create_endpoint(
            &mp,
            json!({"OriginEndpointName": "e", "ContainerType": "MP4"})
        )),
        "MEMBER_INVALID_ENUM_VALUE"
    );
    assert_eq!(
        refused(create_endpoint(&mp, ts(json!({"StartoverWindowSeconds": "1h"})))),
        "MEMBER_INVALID"
    );
    assert_eq!(
        refused(create_endpoint(
            &mp,
            ts(json!({"Segment": {"SegmentDurationSeconds": 31}}))
        )),
        "MEMBER_MAX_VALUE"
    );
    // A manifest window is at least 30 s, so never shorter than a segment (at most 30 s).
    let short = create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "index", "ManifestWindowSeconds": 20}]})),
    );
    assert_eq!(short.refused(), (400, "ValidationException", "MEMBER_MIN_VALUE"));
    assert_eq!(
        short.message(),
        "HlsManifests[0].ManifestWindowSeconds must be at least 30 (got 20)"
    );
    assert_eq!(
        refused(post(
            &mp,
            "/channelGroup",
            json!({"ChannelGroupName": "g", "Description": "x".repeat(1025)})
        )),
        "MEMBER_MAX_LENGTH"
    );
    assert_eq!(
        refused(post(&mp, "/channelGroup", json!({"ChannelGroupName": ""}))),
        "MEMBER_MIN_LENGTH"
    );
    // Pagination bounds and required query members.
    assert_eq!(
        refused(get(&mp, "/channelGroup?maxResults=0")),
        "INVALID_PAGINATION_MAX_RESULTS"
    );
    assert_eq!(
        refused(get(&mp, "/channelGroup?maxResults=101")),
        "INVALID_PAGINATION_MAX_RESULTS"
    );
    let untag = call(
        &mp,
        Method::DELETE,
        &format!("/tags/{ARN}:channelGroup%2Flive"),
        &[],
        Value::Null,
    );
    assert_eq!(untag.refused(), (400, "ValidationException", "MEMBER_MISSING"));
    assert_eq!(untag.message(), "tagKeys is required");
}

#[test]
fn container_types_serve_their_manifests() {
    let mp = with_channel();
    let refused = |body: Value| create_endpoint(&mp, body).refused().2.to_owned();
    let dash_on_ts = create_endpoint(&mp, ts(json!({"DashManifests": [{"ManifestName": "dash"}]})));
    assert_eq!(
        dash_on_ts.refused(),
        (400, "ValidationException", "TS_CONTAINER_TYPE_WITH_DASH_MANIFEST")
    );
    assert_eq!(
        dash_on_ts.message(),
        "An origin endpoint with the TS container type can't have DASH manifests: it serves HLS and low-latency HLS manifests"
    );
    assert_eq!(
        refused(ts(json!({"MssManifests": [{"ManifestName": "mss"}]}))),
        "TS_CONTAINER_TYPE_WITH_MSS_MANIFEST"
    );
    assert_eq!(
        refused(cmaf(json!({"MssManifests": [{"ManifestName": "mss"}]}))),
        "CMAF_CONTAINER_TYPE_WITH_MSS_MANIFEST"
    );
    let ism = |manifests: Value| {
        let mut body = ts(manifests);
        body["ContainerType"] = json!("ISM");
        body
    };
    assert_eq!(
        refused(ism(json!({"HlsManifests": [{"ManifestName": "a"}]}))),
        "ISM_CONTAINER_TYPE_WITH_HLS_MANIFEST"
    );
    assert_eq!(
        refused(ism(json!({"LowLatencyHlsManifests": [{"ManifestName": "a"}]}))),
        "ISM_CONTAINER_TYPE_WITH_LL_HLS_MANIFEST"
    );
    assert_eq!(
        refused(ism(json!({"DashManifests": [{"ManifestName": "a"}]}))),
        "ISM_CONTAINER_TYPE_WITH_DASH_MANIFEST"
    );
    assert_eq!(
        refused(ism(
            json!({"MssManifests": [{"ManifestName": "a"}], "Segment": {"Scte": {"ScteFilter": ["BREAK"]}}})
        )),
        "ISM_CONTAINER_TYPE_WITH_SCTE"
    );
    // "HLS and LL-HLS support both TS and CMAF container types" (user guide).
    let ll_on_ts = ok(create_endpoint(
        &mp,
        ts(json!({"LowLatencyHlsManifests": [{"ManifestName": "ll"}]})),
    ));
    assert_eq!(
        ll_on_ts["LowLatencyHlsManifests"][0]["Url"],
        format!("{BASE}/out/v1/live/c1/e/ll.m3u8")
    );
    let mss = ok(create_endpoint(
        &mp,
        ism(json!({"OriginEndpointName": "smooth", "MssManifests": [{"ManifestName": "mss"}]})),
    ));
    assert_eq!(
        mss["MssManifests"][0]["Url"],
        format!("{BASE}/out/v1/live/c1/smooth/mss.ism/Manifest")
    );
}

#[test]
fn manifest_names_are_unique_within_an_endpoint() {
    let mp = with_channel();
    let collision = create_endpoint(
        &mp,
        cmaf(
            json!({"HlsManifests": [{"ManifestName": "index"}], "LowLatencyHlsManifests": [{"ManifestName": "index"}]}),
        ),
    );
    assert_eq!(
        collision.refused(),
        (400, "ValidationException", "MANIFEST_NAME_COLLISION")
    );
    let across = create_endpoint(
        &mp,
        cmaf(json!({"HlsManifests": [{"ManifestName": "index"}], "DashManifests": [{"ManifestName": "index"}]})),
    );
    assert_eq!(across.refused().2, "MANIFEST_NAME_COLLISION");
    let child = create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "a", "ChildManifestName": "b"}, {"ManifestName": "b"}]})),
    );
    assert_eq!(child.refused().2, "MANIFEST_NAME_COLLISION");
    let twice = create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "a"}, {"ManifestName": "a"}]})),
    );
    assert_eq!(twice.refused().2, "MANIFEST_NAME_COLLISION");
}

#[test]
fn manifest_settings_follow_the_documented_rules() {
    let mp = with_channel();
    let hls = |manifest: Value| {
        create_endpoint(&mp, ts(json!({"HlsManifests": [manifest]})))
            .refused()
            .2
            .to_owned()
    };
    let dash = |manifest: Value| {
        create_endpoint(&mp, cmaf(json!({"DashManifests": [manifest]})))
            .refused()
            .2
            .to_owned()
    };
    assert_eq!(
        hls(json!({"ManifestName": "a", "FilterConfiguration": {"ClipStartTime": 1.7e9, "Start": 1.7e9}})),
        "CLIP_START_TIME_WITH_START_OR_END"
    );
    assert_eq!(
        hls(json!({"ManifestName": "a", "FilterConfiguration": {"Start": 1.7e9, "End": 1.6e9}})),
        "END_TIME_EARLIER_THAN_START_TIME"
    );
    let delayed = create_endpoint(
        &mp,
        ts(json!({"StartoverWindowSeconds": 60,
                  "HlsManifests": [{"ManifestName": "a", "FilterConfiguration": {"TimeDelaySeconds": 60}}]})),
    );
    assert_eq!(delayed.refused().2, "INVALID_TIME_DELAY_SECONDS");
    // EXT-X-START: positive below window - 3 segments (60 - 18), negative beyond 3 segments.
    assert_eq!(
        hls(json!({"ManifestName": "a", "StartTag": {"TimeOffset": 42.0}})),
        "START_TAG_TIME_OFFSET_INVALID"
    );
    assert_eq!(
        hls(json!({"ManifestName": "a", "StartTag": {"TimeOffset": -18.0}})),
        "START_TAG_TIME_OFFSET_INVALID"
    );
    assert_eq!(
        hls(json!({"ManifestName": "a", "StartTag": {"TimeOffset": -60.0}})),
        "START_TAG_TIME_OFFSET_INVALID"
    );
    ok(create_endpoint(
        &mp,
        ts(json!({"OriginEndpointName": "start", "HlsManifests": [
            {"ManifestName": "a", "StartTag": {"TimeOffset": 41.5}},
            {"ManifestName": "b", "StartTag": {"TimeOffset": -18.5, "Precise": true}},
        ]})),
    ));
    assert_eq!(
        hls(json!({"ManifestName": "a", "ScteHls": {"AdMarkerHls": "DATERANGE"}})),
        "MEMBER_MISSING"
    );
    assert_eq!(
        dash(
            json!({"ManifestName": "d", "UtcTiming": {"TimingMode": "UTC_DIRECT", "TimingSource": "https://time.example"}})
        ),
        "DIRECT_MODE_WITH_TIMING_SOURCE"
    );
    assert_eq!(
        dash(json!({"ManifestName": "d", "UtcTiming": {"TimingMode": "HTTP_ISO"}})),
        "TIMING_SOURCE_MISSING"
    );
    assert_eq!(
        dash(json!({"ManifestName": "d", "UtcTiming": {"TimingSource": "https://time.example"}})),
        "NONE_MODE_WITH_TIMING_SOURCE"
    );
    assert_eq!(
        dash(json!({"ManifestName": "d", "PeriodTriggers": ["NONE", "AVAILS"]})),
        "PERIOD_TRIGGERS_NONE_SPECIFIED_WITH_ADDITIONAL_VALUES"
    );
    assert_eq!(
        dash(json!({"ManifestName": "d", "DrmSignaling": "INDIVIDUAL"})),
        "DRM_SIGNALING_MISMATCH_SEGMENT_ENCRYPTION_STATUS"
    );
    assert_eq!(
        dash(json!({"ManifestName": "d", "DvbSettings": {"FontDownload": {"Url": "https://fonts.example/f"}}})),
        "DASH_DVB_ATTRIBUTES_WITHOUT_DVB_DASH_PROFILE"
    );
    ok(create_endpoint(
        &mp,
        cmaf(
            json!({"OriginEndpointName": "dvb", "DashManifests": [{"ManifestName": "d", "Profiles": ["DVB_DASH"],
            "DvbSettings": {"FontDownload": {"Url": "https://fonts.example/f"}},
            "UtcTiming": {"TimingMode": "HTTP_ISO", "TimingSource": "https://time.example"}}]}),
        ),
    ));
}

fn encrypted(container: &str, method: Value, drm: Value) -> Value {
    json!({"OriginEndpointName": "enc", "ContainerType": container, "HlsManifests": [{"ManifestName": "a"}],
        "Segment": {"Encryption": {"EncryptionMethod": method, "SpekeKeyProvider": {
            "EncryptionContractConfiguration": {"PresetSpeke20Audio": "PRESET_AUDIO_1", "PresetSpeke20Video": "PRESET_VIDEO_1"},
            "ResourceId": "r", "DrmSystems": drm, "RoleArn": "arn:aws:iam::123456789012:role/speke",
            "Url": "https://speke.example/v2"}}}})
}

#[test]
fn encryption_fits_the_container() {
    let mp = with_channel();
    let refused = |body: Value| create_endpoint(&mp, body).refused().2.to_owned();
    assert_eq!(
        refused(encrypted(
            "TS",
            json!({"CmafEncryptionMethod": "CBCS"}),
            json!(["FAIRPLAY"])
        )),
        "ENCRYPTION_METHOD_CONTAINER_TYPE_MISMATCH"
    );
    assert_eq!(
        refused(encrypted(
            "CMAF",
            json!({"TsEncryptionMethod": "AES_128"}),
            json!(["CLEAR_KEY_AES_128"])
        )),
        "ENCRYPTION_METHOD_CONTAINER_TYPE_MISMATCH"
    );
    assert_eq!(
        refused(encrypted(
            "CMAF",
            json!({"CmafEncryptionMethod": "CENC"}),
            json!(["FAIRPLAY"])
        )),
        "DRM_SYSTEMS_ENCRYPTION_METHOD_INCOMPATIBLE"
    );
    assert_eq!(
        refused(encrypted(
            "CMAF",
            json!({"CmafEncryptionMethod": "CBCS"}),
            json!(["IRDETO"])
        )),
        "DRM_SYSTEMS_ENCRYPTION_METHOD_INCOMPATIBLE"
    );
    let mut excluded = encrypted("TS", json!({"TsEncryptionMethod": "SAMPLE_AES"}), json!(["FAIRPLAY"]));
    excluded["Segment"]["Encryption"]["CmafExcludeSegmentDrmMetadata"] = json!(true);
    assert_eq!(
        refused(excluded),
        "CMAF_EXCLUDE_SEGMENT_DRM_METADATA_INCOMPATIBLE_CONTAINER_TYPE"
    );
    // The tests' requests carry no caller: an administrator, who may pass any role.
    let fine = ok(create_endpoint(
        &mp,
        encrypted(
            "CMAF",
            json!({"CmafEncryptionMethod": "CBCS"}),
            json!(["FAIRPLAY", "WIDEVINE"]),
        ),
    ));
    assert_eq!(
        fine["Segment"]["Encryption"]["EncryptionMethod"]["CmafEncryptionMethod"],
        "CBCS"
    );
}

#[test]
fn cmaf_only_settings_need_a_cmaf_channel() {
    let mp = with_channel();
    let channel = |body: Value| post(&mp, "/channelGroup/live/channel", body).refused().2.to_owned();
    assert_eq!(
        channel(json!({"ChannelName": "m", "InputSwitchConfiguration": {"MQCSInputSwitching": true}})),
        "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_INPUT_SWITCHING"
    );
    assert_eq!(
        channel(json!({"ChannelName": "m", "InputType": "HLS", "InputSwitchConfiguration": {"PreferredInput": 1}})),
        "ONLY_CMAF_INPUT_TYPE_ALLOW_PREFERRED_INPUT_CONFIGURATION"
    );
    assert_eq!(
        channel(json!({"ChannelName": "m", "OutputHeaderConfiguration": {"PublishMQCS": true}})),
        "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_OUTPUT_CONFIGURATION"
    );
    let cmaf_channel = ok(post(
        &mp,
        "/channelGroup/live/channel",
        json!({"ChannelName": "m", "InputType": "CMAF", "InputSwitchConfiguration": {"MQCSInputSwitching": true, "PreferredInput": 2},
               "OutputHeaderConfiguration": {"PublishMQCS": true}}),
    ));
    assert_eq!(cmaf_channel["InputSwitchConfiguration"]["PreferredInput"], 2);
    let update = call(
        &mp,
        Method::PUT,
        "/channelGroup/live/channel/c1",
        &[],
        json!({"OutputHeaderConfiguration": {"PublishMQCS": true}}),
    );
    assert_eq!(
        update.refused().2,
        "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_OUTPUT_CONFIGURATION"
    );
    let failover = json!({"ForceEndpointErrorConfiguration": {"EndpointErrorConditions": ["STALE_MANIFEST"]},
                          "HlsManifests": [{"ManifestName": "a"}]});
    assert_eq!(
        create_endpoint(&mp, cmaf(failover.clone())).refused().2,
        "ONLY_CMAF_INPUT_TYPE_ALLOW_FORCE_ENDPOINT_ERROR_CONFIGURATION"
    );
    ok(post(&mp, "/channelGroup/live/channel/m/originEndpoint", cmaf(failover)));
}

#[test]
fn conflicts_carry_their_type() {
    let mp = with_channel();
    let again = post(&mp, "/channelGroup", json!({"ChannelGroupName": "live"}));
    assert_eq!(again.refused(), (409, "ConflictException", "RESOURCE_ALREADY_EXISTS"));
    let again = post(&mp, "/channelGroup/live/channel", json!({"ChannelName": "c1"}));
    assert_eq!(again.refused(), (409, "ConflictException", "RESOURCE_ALREADY_EXISTS"));
    ok(create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "index"}]})),
    ));
    let again = create_endpoint(&mp, ts(json!({"HlsManifests": [{"ManifestName": "index"}]})));
    assert_eq!(again.refused(), (409, "ConflictException", "RESOURCE_ALREADY_EXISTS"));

    let group = call(&mp, Method::DELETE, "/channelGroup/live", &[], Value::Null);
    assert_eq!(group.refused(), (409, "ConflictException", "RESOURCE_IN_USE"));
    assert!(
        group
            .message()
            .starts_with("The channel group you tried to delete has channels attached to it")
    );
    let channel = call(&mp, Method::DELETE, "/channelGroup/live/channel/c1/", &[], Value::Null);
    assert_eq!(channel.refused(), (409, "ConflictException", "RESOURCE_IN_USE"));

    // Deleting in order works; deleting what is gone is not an error (the model declares no
    // ResourceNotFoundException for deletes).
    for path in [
        &format!("{ENDPOINTS}/e"),
        "/channelGroup/live/channel/c1/",
        "/channelGroup/live",
    ] {
        assert_eq!(ok(call(&mp, Method::DELETE, path, &[], Value::Null)), json!({}));
        assert_eq!(ok(call(&mp, Method::DELETE, path, &[], Value::Null)), json!({}));
    }
    assert_eq!(ok(get(&mp, "/channelGroup"))["Items"], json!([]));
}

#[test]
fn client_tokens_make_creates_idempotent() {
    let mp = service();
    let token = [("x-amzn-client-token", "3f1c1e9e-token")];
    let body = json!({"ChannelGroupName": "live"});
    let first = ok(call(&mp, Method::POST, "/channelGroup", &token, body.clone()));
    let retried = ok(call(&mp, Method::POST, "/channelGroup", &token, body));
    assert_eq!(first, retried, "a retry answers with what the first call made");
    let other = call(
        &mp,
        Method::POST,
        "/channelGroup",
        &token,
        json!({"ChannelGroupName": "live", "Description": "x"}),
    );
    assert_eq!(
        other.refused(),
        (409, "ConflictException", "IDEMPOTENT_PARAMETER_MISMATCH")
    );
    let untokened = post(&mp, "/channelGroup", json!({"ChannelGroupName": "live"}));
    assert_eq!(untokened.refused().2, "RESOURCE_ALREADY_EXISTS");
}

#[test]
fn missing_resources_name_their_type() {
    let mp = with_channel();
    let group = get(&mp, "/channelGroup/nope");
    assert_eq!(group.refused(), (404, "ResourceNotFoundException", "CHANNEL_GROUP"));
    assert_eq!(
        group.message(),
        "MediaPackage can't process your request because we can't find your channel group. Verify your channel \
         group name or add a channel group and then try again"
    );
    assert_eq!(get(&mp, "/channelGroup/live/channel/nope").refused().2, "CHANNEL");
    assert_eq!(get(&mp, "/channelGroup/nope/channel/c1").refused().2, "CHANNEL_GROUP");
    assert_eq!(get(&mp, &format!("{ENDPOINTS}/nope")).refused().2, "ORIGIN_ENDPOINT");
    assert_eq!(get(&mp, "/channelGroup/nope/channel").refused().2, "CHANNEL_GROUP");
    assert_eq!(
        get(&mp, "/channelGroup/live/channel/nope/originEndpoint").refused().2,
        "CHANNEL"
    );
    let orphan = post(&mp, "/channelGroup/nope/channel", json!({"ChannelName": "c"}));
    assert_eq!(orphan.refused(), (404, "ResourceNotFoundException", "CHANNEL_GROUP"));
    let orphan = post(&mp, "/channelGroup/live/channel/nope/originEndpoint", ts(json!({})));
    assert_eq!(orphan.refused().2, "CHANNEL");
}

#[test]
fn updates_check_the_etag_and_replace_the_configuration() {
    let mp = with_channel();
    let created = ok(create_endpoint(
        &mp,
        ts(
            json!({"Description": "first", "UriSeparator": "HYPHEN", "StartoverWindowSeconds": 600,
                  "HlsManifests": [{"ManifestName": "index"}]}),
        ),
    ));
    let path = format!("{ENDPOINTS}/e");
    let etag = created["ETag"].as_str().unwrap().to_owned();
    let update =
        json!({"ContainerType": "TS", "HlsManifests": [{"ManifestName": "main", "ManifestWindowSeconds": 90}]});
    let updated = ok(call(
        &mp,
        Method::PUT,
        &path,
        &[("x-amzn-update-if-match", &etag)],
        update.clone(),
    ));
    assert_ne!(updated["ETag"], created["ETag"]);
    assert!(updated["ModifiedAt"].as_f64() >= created["ModifiedAt"].as_f64());
    assert_eq!(updated["CreatedAt"], created["CreatedAt"]);
    assert_eq!(
        updated["HlsManifests"][0]["Url"],
        format!("{BASE}/out/v1/live/c1/e/main.m3u8")
    );
    // PUT replaces the configuration; UriSeparator is kept when not named (model).
    assert!(updated.get("Description").is_none() && updated.get("StartoverWindowSeconds").is_none());
    assert_eq!(updated["UriSeparator"], "HYPHEN");
    assert_eq!(
        updated["tags"],
        json!({}),
        "UpdateOriginEndpointResponse spells it tags"
    );
    assert_eq!(ok(get(&mp, &path))["ETag"], updated["ETag"]);

    let stale = call(
        &mp,
        Method::PUT,
        &path,
        &[("x-amzn-update-if-match", &etag)],
        update.clone(),
    );
    assert_eq!(stale.refused(), (409, "ConflictException", "CONFLICTING_OPERATION"));
    assert_eq!(
        ok(get(&mp, &path))["ETag"],
        updated["ETag"],
        "a refused update changes nothing"
    );
    ok(call(&mp, Method::PUT, &path, &[], update));

    let immutable = call(&mp, Method::PUT, &path, &[], json!({"ContainerType": "CMAF"}));
    assert_eq!(
        immutable.refused(),
        (400, "ValidationException", "CONTAINER_TYPE_IMMUTABLE")
    );

    let group = ok(get(&mp, "/channelGroup/live"));
    let etag = group["ETag"].as_str().unwrap();
    let described = ok(call(
        &mp,
        Method::PUT,
        "/channelGroup/live",
        &[("x-amzn-update-if-match", etag)],
        json!({"Description": "events"}),
    ));
    assert_eq!(described["Description"], "events");
    let stale = call(
        &mp,
        Method::PUT,
        "/channelGroup/live",
        &[("x-amzn-update-if-match", etag)],
        json!({"Description": "late"}),
    );
    assert_eq!(stale.refused(), (409, "ConflictException", "CONFLICTING_OPERATION"));
    let channel = ok(get(&mp, "/channelGroup/live/channel/c1"));
    let stale = call(
        &mp,
        Method::PUT,
        "/channelGroup/live/channel/c1/",
        &[("x-amzn-update-if-match", "not-the-etag")],
        json!({"Description": "late"}),
    );
    assert_eq!(stale.refused().2, "CONFLICTING_OPERATION");
    let channel_etag = channel["ETag"].as_str().unwrap();
    let renamed = ok(call(
        &mp,
        Method::PUT,
        "/channelGroup/live/channel/c1/",
        &[("x-amzn-update-if-match", channel_etag)],
        json!({"Description": "main feed"}),
    ));
    assert_eq!(renamed["Description"], "main feed");
    assert_eq!(renamed["IngestEndpoints"][1]["Id"], "2");
}

#[test]
fn listings_are_paginated_with_opaque_tokens() {
    let mp = service();
    for name in ["a", "b", "c"] {
        ok(post(&mp, "/channelGroup", json!({"ChannelGroupName": name})));
    }
    let first = ok(get(&mp, "/channelGroup?maxResults=2"));
    let names = |page: &Value| -> Vec<String> {
        page["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["ChannelGroupName"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["a", "b"]);
    let token = first["NextToken"].as_str().unwrap();
    assert_ne!(token, "b", "opaque");
    let second = ok(get(&mp, &format!("/channelGroup?maxResults=2&nextToken={token}")));
    assert_eq!(names(&second), ["c"]);
    assert!(second.get("NextToken").is_none());
    let bad = get(&mp, "/channelGroup?nextToken=b");
    assert_eq!(bad.refused(), (400, "ValidationException", "INVALID_PAGINATION_TOKEN"));
}

#[test]
fn quotas_are_aws_defaults_unless_raised() {
    let mp = service();
    for name in ["a", "b", "c"] {
        ok(post(&mp, "/channelGroup", json!({"ChannelGroupName": name})));
    }
    let fourth = post(&mp, "/channelGroup", json!({"ChannelGroupName": "d"}));
    assert_eq!(fourth.refused(), (402, "ServiceQuotaExceededException", ""));
    assert!(fourth.message().contains("quota of 3 channel groups"));

    let mp = with_channel();
    let many: Vec<Value> = (0..26).map(|i| json!({"ManifestName": format!("m{i}")})).collect();
    let too_many = create_endpoint(&mp, ts(json!({"HlsManifests": many})));
    assert_eq!(too_many.refused().1, "ServiceQuotaExceededException");

    let raised = service_with("channelGroups=5,channels=1");
    for name in ["a", "b", "c", "d", "e"] {
        ok(post(&raised, "/channelGroup", json!({"ChannelGroupName": name})));
    }
    ok(post(&raised, "/channelGroup/a/channel", json!({"ChannelName": "one"})));
    let second = post(&raised, "/channelGroup/a/channel", json!({"ChannelName": "two"}));
    assert_eq!(second.refused().1, "ServiceQuotaExceededException");
    assert_eq!(
        Quotas::parse("originEndpoints=20").unwrap(),
        Quotas {
            origin_endpoints: 20,
            ..Quotas::default()
        }
    );
    assert!(Quotas::parse("groups=1").is_err());
}

#[test]
fn tags_follow_the_resource_arn() {
    let mp = with_channel();
    ok(create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "index"}], "Tags": {"a": "1"}})),
    ));
    let endpoint_arn = format!("{ARN}:channelGroup/live/channel/c1/originEndpoint/e");
    let tags_path = |arn: &str| format!("/tags/{}", arn.replace('/', "%2F"));
    let tagged = call(
        &mp,
        Method::POST,
        &tags_path(&endpoint_arn),
        &[],
        json!({"tags": {"b": "2", "a": "0"}}),
    );
    assert_eq!(
        (tagged.status, tagged.body.clone()),
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_eq!(
        ok(get(&mp, &tags_path(&endpoint_arn))),
        json!({"tags": {"a": "0", "b": "2"}})
    );
    let untagged = call(
        &mp,
        Method::DELETE,
        &format!("{}?tagKeys=a", tags_path(&endpoint_arn)),
        &[],
        Value::Null,
    );
    assert_eq!(untagged.status, StatusCode::NO_CONTENT);
    assert_eq!(ok(get(&mp, &format!("{ENDPOINTS}/e")))["Tags"], json!({"b": "2"}));
    let channel_arn = format!("{ARN}:channelGroup/live/channel/c1");
    call(
        &mp,
        Method::POST,
        &tags_path(&channel_arn),
        &[],
        json!({"tags": {"tier": "gold"}}),
    );
    assert_eq!(
        ok(get(&mp, "/channelGroup/live/channel/c1"))["Tags"],
        json!({"tier": "gold"})
    );
    assert_eq!(
        ok(get(&mp, &tags_path(&format!("{ARN}:channelGroup/live"))))["tags"],
        json!({})
    );

    let invalid = get(&mp, "/tags/arn:aws:mediapackage:us-east-1:123456789012:channels%2Fx");
    assert_eq!(invalid.refused(), (400, "ValidationException", "INVALID_ARN"));
    let gone = get(&mp, &tags_path(&format!("{ARN}:channelGroup/live/channel/nope")));
    assert_eq!(
        (gone.status.as_u16(), gone.error_type.as_deref()),
        (400, Some("ValidationException"))
    );
}

#[test]
fn errors_use_the_service_wire_format() {
    let mp = service();
    let answer = get(&mp, "/channelGroup/nope");
    assert_eq!(answer.error_type.as_deref(), Some("ResourceNotFoundException"));
    let keys: Vec<&String> = answer.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Message", "ResourceTypeNotFound"],
        "the shape's members: {}",
        answer.body
    );
    // Faults and unreadable requests in the service's own names.
    let throttled = ApiError::too_many_requests("Rate exceeded").in_dialect_of("mediapackagev2");
    assert_eq!(
        (throttled.kind, throttled.message_key),
        ("ThrottlingException", "Message")
    );
    let fault = ApiError::internal("boom").in_dialect_of("mediapackagev2");
    assert_eq!((fault.kind, fault.status.as_u16()), ("InternalServerException", 500));
    let unreadable = call(&mp, Method::POST, "/channelGroup", &[], json!("not an object"));
    assert_eq!(unreadable.refused().1, "ValidationException");
    assert_eq!(
        ApiError::too_many_requests("x").in_dialect_of("mediapackage").kind,
        "TooManyRequestsException",
        "v1 keeps its own"
    );
    let unserved = call(
        &mp,
        Method::PUT,
        "/channelGroup/live/channel/c/policy",
        &[],
        json!({"Policy": "{}"}),
    );
    assert_eq!(unserved.refused().0, 404);
}

#[test]
fn the_media_step_finds_a_manifest_by_its_url_parts() {
    let mp = with_channel();
    ok(create_endpoint(
        &mp,
        cmaf(
            json!({"Segment": {"SegmentDurationSeconds": 4}, "StartoverWindowSeconds": 120,
                    "HlsManifests": [{"ManifestName": "hls"}], "DashManifests": [{"ManifestName": "dash", "ManifestWindowSeconds": 90}]}),
        ),
    ));
    let dash = mp.manifest("live", "c1", "e", "dash").unwrap();
    assert_eq!(dash.kind, ManifestKind::Dash);
    assert_eq!(dash.manifest["ManifestWindowSeconds"], 90);
    assert_eq!(dash.manifest["Url"], format!("{BASE}/out/v1/live/c1/e/dash.mpd"));
    assert_eq!(dash.endpoint["ContainerType"], "CMAF");
    assert_eq!(dash.endpoint["Segment"]["SegmentDurationSeconds"], 4);
    assert_eq!(dash.endpoint["StartoverWindowSeconds"], 120);
    assert_eq!(dash.input_type, "HLS");
    assert_eq!(mp.manifest("live", "c1", "e", "hls").unwrap().kind, ManifestKind::Hls);
    assert!(mp.manifest("live", "c1", "e", "nope").is_none());
    assert!(mp.manifest("live", "c1", "other", "hls").is_none());
    assert!(mp.has_endpoint("live", "c1", "e"));
    mp.reset();
    assert!(!mp.has_endpoint("live", "c1", "e"));
    assert_eq!(ok(get(&mp, "/channelGroup"))["Items"], json!([]));
}
