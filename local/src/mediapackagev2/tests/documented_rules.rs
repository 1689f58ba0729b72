//! The rules AWS documents beyond the model: container types and their manifests, manifest
//! name collisions, filters, start tags, DASH timing and triggers, DVB, encryption, CMAF-only
//! settings.

use super::*;

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
    // AWS's own documented example names a manifest its own child.
    let own_child = create_endpoint(
        &mp,
        ts(json!({"HlsManifests": [{"ManifestName": "solo", "ChildManifestName": "solo"}]})),
    );
    assert_eq!(own_child.status, StatusCode::OK, "{}", own_child.body);
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
