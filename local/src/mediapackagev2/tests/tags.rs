//! Tags on the resource an ARN names.

use super::*;

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
