//! The resources' lifecycle: conflicts, client tokens, missing resources, ETag-checked updates,
//! pagination and quotas.

use super::*;

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
