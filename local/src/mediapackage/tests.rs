//! Origin endpoints of every package kept as sent; the live quotas.

use axum::http::{Method, StatusCode};
use clap::Parser;
use serde_json::{Value, json};

use super::*;
use crate::faults::Faults;

static ROUTES: std::sync::LazyLock<crate::protocol::Routes> = std::sync::LazyLock::new(|| {
    let models = crate::model::Models::load(None, &[MODEL]).expect("botocore's models (hack/setup.sh installs them)");
    crate::protocol::Routes::new(models.service("mediapackage").unwrap(), OPERATIONS)
});

fn service(quotas: &str) -> MediaPackage {
    let config = Config::try_parse_from(["livestream-local", "--mediapackage-quotas", quotas]).unwrap();
    let faults = Arc::new(Faults::new(config.faults()));
    let media = Media::new(std::env::temp_dir(), "ffmpeg".into());
    MediaPackage::new(config, faults, media)
}

async fn call(mp: &MediaPackage, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let req = ApiRequest::new(method, path, "", body.to_string().into());
    let operation = ROUTES.route(&req).map_or(crate::chain::UNKNOWN, |r| r.operation);
    let result = mp.handle(operation, req).await;
    let response = match result {
        Ok(r) => r,
        Err(e) => return (e.status, json!({"type": e.kind, "message": e.message})),
    };
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn cmaf_dash_and_mss_endpoints_are_described_as_sent() {
    let mp = service("");
    call(&mp, Method::POST, "/channels", json!({"id": "ch"})).await;
    let cmaf = json!({"segmentDurationSeconds": 2, "segmentPrefix": "seg",
        "encryption": null, "streamSelection": {"streamOrder": "ORIGINAL"},
        "hlsManifests": [{"id": "hls1", "manifestName": "cmafindex", "playlistWindowSeconds": 60,
            "programDateTimeIntervalSeconds": 0, "adMarkers": "NONE"}]});
    let dash = json!({"segmentDurationSeconds": 2, "manifestWindowSeconds": 60, "minBufferTimeSeconds": 30,
        "profile": "NONE", "periodTriggers": ["ADS"], "segmentTemplateFormat": "NUMBER_WITH_TIMELINE",
        "streamSelection": {"minVideoBitsPerSecond": 0}});
    let mss = json!({"segmentDurationSeconds": 2, "manifestWindowSeconds": 60});
    for (id, member, package, suffix) in [
        ("cmaf", "cmafPackage", &cmaf, "index.m3u8"),
        ("dash", "dashPackage", &dash, "index.mpd"),
        ("mss", "mssPackage", &mss, "index.ism/Manifest"),
    ] {
        let (status, created) = call(
            &mp,
            Method::POST,
            "/origin_endpoints",
            json!({"id": id, "channelId": "ch", member: package}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let (_, described) = call(&mp, Method::GET, &format!("/origin_endpoints/{id}"), Value::Null).await;
        for (k, v) in package.as_object().unwrap() {
            if k != "hlsManifests" {
                assert_eq!(&described[member][k], v, "{member}.{k}: {described}");
            }
        }
        assert!(
            described["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/out/v1/{id}/{suffix}")),
            "{described}"
        );
        assert!(described.get("hlsPackage").is_none(), "{described}");
        // No media is served for them.
        assert!(mp.packaging(id).is_none());
    }
    let (_, cmaf_endpoint) = call(&mp, Method::GET, "/origin_endpoints/cmaf", Value::Null).await;
    let manifest = &cmaf_endpoint["cmafPackage"]["hlsManifests"][0];
    assert_eq!(manifest["adMarkers"], "NONE");
    assert!(
        manifest["url"]
            .as_str()
            .unwrap()
            .ends_with("/out/v1/cmaf/cmafindex.m3u8"),
        "{manifest}"
    );
}

#[tokio::test]
async fn live_quotas_as_aws_defaults_and_raised() {
    let mp = service("");
    for i in 0..30 {
        let (status, _) = call(&mp, Method::POST, "/channels", json!({"id": format!("c{i}")})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, refused) = call(&mp, Method::POST, "/channels", json!({"id": "c30"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["message"].as_str().unwrap().contains("Resource limit exceeded"),
        "{refused}"
    );
    for i in 0..10 {
        let body = json!({"id": format!("e{i}"), "channelId": "c0", "hlsPackage": {}});
        assert_eq!(
            call(&mp, Method::POST, "/origin_endpoints", body).await.0,
            StatusCode::OK
        );
    }
    let body = json!({"id": "e10", "channelId": "c0", "hlsPackage": {}});
    assert_eq!(
        call(&mp, Method::POST, "/origin_endpoints", body).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Another channel has its own ten.
    let body = json!({"id": "e10", "channelId": "c1", "hlsPackage": {}});
    assert_eq!(
        call(&mp, Method::POST, "/origin_endpoints", body).await.0,
        StatusCode::OK
    );

    let raised = service("channels=31,originEndpoints=1");
    for i in 0..31 {
        let (status, _) = call(&raised, Method::POST, "/channels", json!({"id": format!("c{i}")})).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn refusals_keep_to_their_sources() {
    let mp = service("");
    // No cap on the channel id's length (none public); its characters are AWS's.
    let long = "c".repeat(300);
    assert_eq!(
        call(&mp, Method::POST, "/channels", json!({"id": long})).await.0,
        StatusCode::OK
    );
    let (status, _) = call(&mp, Method::POST, "/channels", json!({"id": "a b"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Segments longer than 30 s are packaged; a segment of no time is not.
    let body = json!({"id": "e60", "channelId": long, "hlsPackage": {"segmentDurationSeconds": 60, "playlistWindowSeconds": 120}});
    assert_eq!(
        call(&mp, Method::POST, "/origin_endpoints", body).await.0,
        StatusCode::OK
    );
    let body = json!({"id": "e0", "channelId": long, "hlsPackage": {"segmentDurationSeconds": 0}});
    assert_eq!(
        call(&mp, Method::POST, "/origin_endpoints", body).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
