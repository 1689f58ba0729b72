use serde_json::{Value, json};

use super::*;

fn spec_schema() -> Value {
    let crd = serde_json::to_value(crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

#[test]
fn committed_crd_matches_the_code() {
    let committed = include_str!("../../crds/livestream.yaml");
    assert!(
        committed == crd_yaml(),
        "crds/livestream.yaml is stale: run `cargo run -- crd > crds/livestream.yaml`"
    );
    let chart = include_str!("../../deploy/helm/livestream-operator/crds/livestream.yaml");
    assert!(
        chart == committed,
        "the Helm chart's CRD is stale: `cp crds/livestream.yaml deploy/helm/livestream-operator/crds/`"
    );
}

#[test]
fn crd_names_and_scope() {
    let crd = crd();
    assert_eq!(crd.spec.group, "media.livestream.io");
    assert_eq!(crd.spec.names.kind, "LiveStream");
    assert_eq!(crd.spec.names.plural, "livestreams");
    assert_eq!(crd.spec.names.short_names, Some(vec!["lvs".to_owned()]));
    assert_eq!(crd.spec.scope, "Namespaced");
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(version.subresources.as_ref().unwrap().status.is_some());
}

#[test]
fn printer_columns_hide_urls_except_playback_in_narrow_view() {
    let crd = crd();
    let columns = crd.spec.versions[0].additional_printer_columns.clone().unwrap();
    let narrow: Vec<_> = columns
        .iter()
        .filter(|c| c.priority.unwrap_or(0) == 0)
        .map(|c| c.name.as_str())
        .collect();
    let wide: Vec<_> = columns
        .iter()
        .filter(|c| c.priority == Some(1))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(narrow, ["Running", "State", "Input", "Playback URL", "Age"]);
    assert_eq!(
        wide,
        [
            "Ingest URL",
            "Website URL",
            "LL-HLS URL",
            "DASH URL",
            "CDN",
            "Next Start"
        ]
    );
}

#[test]
fn empty_spec_deserializes_to_the_pattern_defaults() {
    let spec: LiveStreamSpec = serde_json::from_value(json!({})).unwrap();
    assert!(!spec.running);
    assert_eq!(spec.input.allowed_cidrs, ["0.0.0.0/0"]);
    assert_eq!(spec.input.stream_name, "test/channel");
    let hls = &spec.packaging.hls;
    assert_eq!((hls.segment_duration_seconds, hls.playlist_window_seconds), (5, 60));
    assert_eq!(
        (hls.min_video_bits_per_second, hls.max_video_bits_per_second),
        (0, i32::MAX)
    );
    assert_eq!(hls.stream_order, StreamOrder::Original);
    let ladder: Vec<_> = spec
        .encoding
        .renditions
        .iter()
        .map(|r| (r.width, r.height, r.frames_per_second, r.bits_per_second))
        .collect();
    assert_eq!(ladder, [(1920, 1080, 30, 5_000_000), (1280, 720, 30, 3_000_000)]);
    assert_eq!(spec.encoding.audio.bits_per_second, 192_000);
    assert_eq!(spec.encoding.audio.sample_rate, 48_000);
    assert!(spec.website.enabled);
}

#[test]
fn schema_defaults_match_serde_defaults() {
    // The API server fills in the schema's defaults; the operator's serde defaults must agree.
    let schema = spec_schema();
    let from_schema: LiveStreamSpec = serde_json::from_value(json!({
        "input": schema["properties"]["input"]["default"],
        "packaging": schema["properties"]["packaging"]["default"],
        "encoding": schema["properties"]["encoding"]["default"],
        "website": schema["properties"]["website"]["default"],
    }))
    .unwrap();
    let from_serde: LiveStreamSpec = serde_json::from_value(json!({})).unwrap();
    assert_eq!(from_schema, from_serde);
}

#[test]
fn schema_is_structural_and_carries_the_validations() {
    let text = serde_json::to_string(&crd()).unwrap();
    for needle in [
        "isCIDR(self)",
        "self.playlistWindowSeconds >= self.segmentDurationSeconds",
        "self.minVideoBitsPerSecond <= self.maxVideoBitsPerSecond",
        "self == oldSelf",
        CHANNEL_ID_PATTERN,
    ] {
        assert!(text.contains(needle), "CRD lacks validation {needle}");
    }
    // Structural schemas have no $ref / anyOf-only nodes the API server would reject.
    assert!(!text.contains("\"$ref\""));
    let renditions = &spec_schema()["properties"]["encoding"]["properties"]["renditions"];
    assert_eq!(renditions["x-kubernetes-list-type"], "map");
    assert_eq!(renditions["x-kubernetes-list-map-keys"], json!(["name"]));
}

#[test]
fn channel_id_defaults_to_the_name() {
    let mut stream = LiveStream::new("launch-event", serde_json::from_value(json!({})).unwrap());
    assert_eq!(stream.channel_id(), "launch-event");
    stream.spec.channel_id = Some("keynote".into());
    assert_eq!(stream.channel_id(), "keynote");
}

/// `kubectl explain` shows each field's description: every field we define must have one.
#[test]
fn every_spec_and_status_field_is_described() {
    fn walk(path: &str, schema: &Value, missing: &mut Vec<String>) {
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let here = format!("{path}.{name}");
                if property["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(here.clone());
                }
                walk(&here, property, missing);
                walk(&here, &property["items"], missing);
            }
        }
    }
    let crd = serde_json::to_value(crd()).unwrap();
    let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
    let mut missing = Vec::new();
    walk("spec", &root["spec"], &mut missing);
    // Conditions are the upstream metav1.Condition type; check our own status fields only.
    let mut status = root["status"].clone();
    status["properties"]["conditions"]["items"] = Value::Null;
    walk("status", &status, &mut missing);
    assert!(missing.is_empty(), "fields without a description: {missing:?}");
}
