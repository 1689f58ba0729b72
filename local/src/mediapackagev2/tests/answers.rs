//! What answers describe: ARNs, defaults, ingest and manifest URLs, the list shapes; and the
//! manifest lookup the media step uses.

use super::*;

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
