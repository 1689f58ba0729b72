//! What the model refuses (patterns at every location, required members, types, enums, ranges,
//! lengths, pagination bounds) and the service's error wire format.

use super::*;

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
    let throttled = (crate::mediapackagev2::DIALECT.shape)(ApiError::too_many_requests("Rate exceeded"));
    assert_eq!(
        (throttled.kind, throttled.message_key),
        ("ThrottlingException", "Message")
    );
    let fault = (crate::mediapackagev2::DIALECT.shape)(ApiError::internal("boom"));
    assert_eq!((fault.kind, fault.status.as_u16()), ("InternalServerException", 500));
    let unreadable = call(&mp, Method::POST, "/channelGroup", &[], json!("not an object"));
    assert_eq!(unreadable.refused().1, "ValidationException");
    assert_eq!(
        (crate::mediapackage::DIALECT.shape)(ApiError::too_many_requests("x")).kind,
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
