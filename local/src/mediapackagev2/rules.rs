//! The rules MediaPackage v2 applies beyond its model's shapes, each refused with the
//! `ValidationExceptionType` the model names for it. Sources: the model's own documentation
//! (botocore `mediapackagev2` 2022-12-25), the user guide ("DASH requires the CMAF container
//! type", "HLS and LL-HLS support both TS and CMAF container types", the quotas) and the enum of
//! validation types itself where it names a rule exactly. The wording of the messages is ours.
//!
//! What the model already refuses is not repeated here: a manifest window under 30 s
//! (`MEMBER_MIN_VALUE`), so never shorter than a segment (at most 30 s); segment durations
//! outside 1–30 s; names outside `[a-zA-Z0-9_-]+`.

use axum::http::StatusCode;
use serde_json::Value;

use super::{ManifestKind, errors::validation};
use crate::protocol::{ApiError, ApiResult};

fn refuse(kind: &'static str, message: impl Into<String>) -> ApiResult<()> {
    Err(validation(kind, message))
}

/// CreateChannel / UpdateChannel: MQCS input switching, a preferred input and MQCS headers are
/// "valid only when InputType is CMAF" (model).
pub(super) fn check_channel(input_type: &str, body: &Value) -> ApiResult<()> {
    if input_type == "CMAF" {
        return Ok(());
    }
    let switching = &body["InputSwitchConfiguration"];
    if switching["MQCSInputSwitching"] == true {
        return refuse(
            "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_INPUT_SWITCHING",
            "InputSwitchConfiguration.MQCSInputSwitching is valid only when InputType is CMAF",
        );
    }
    if !switching["PreferredInput"].is_null() {
        return refuse(
            "ONLY_CMAF_INPUT_TYPE_ALLOW_PREFERRED_INPUT_CONFIGURATION",
            "InputSwitchConfiguration.PreferredInput is valid only when InputType is CMAF",
        );
    }
    if body["OutputHeaderConfiguration"]["PublishMQCS"] == true {
        return refuse(
            "ONLY_CMAF_INPUT_TYPE_ALLOW_MQCS_OUTPUT_CONFIGURATION",
            "OutputHeaderConfiguration.PublishMQCS is valid only when InputType is CMAF",
        );
    }
    Ok(())
}

fn manifests(body: &Value, kind: ManifestKind) -> &[Value] {
    body[kind.member()].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// CreateOriginEndpoint / UpdateOriginEndpoint on a channel of `input_type`.
pub(super) fn check_endpoint(container: &str, input_type: &str, body: &Value, max_manifests: usize) -> ApiResult<()> {
    check_containers(container, body)?;
    let count: usize = ManifestKind::ALL.iter().map(|k| manifests(body, *k).len()).sum();
    if count > max_manifests {
        return Err(ApiError::shaped(
            StatusCode::PAYMENT_REQUIRED,
            "ServiceQuotaExceededException",
            format!("An origin endpoint can have at most {max_manifests} manifests (this one has {count})"),
            &[],
        ));
    }
    check_names(body)?;
    let segment = &body["Segment"];
    let segment_seconds = segment["SegmentDurationSeconds"].as_f64().unwrap_or(6.0);
    let startover = body["StartoverWindowSeconds"].as_i64();
    for kind in ManifestKind::ALL {
        for (i, manifest) in manifests(body, kind).iter().enumerate() {
            let at = format!("{}[{i}]", kind.member());
            check_filter(&at, &manifest["FilterConfiguration"], startover)?;
            match kind {
                ManifestKind::Hls | ManifestKind::LowLatencyHls => check_hls(&at, manifest, segment_seconds)?,
                ManifestKind::Dash => check_dash(&at, manifest, segment)?,
                ManifestKind::Mss => {}
            }
        }
    }
    check_segment(container, segment)?;
    let conditions = body["ForceEndpointErrorConfiguration"]["EndpointErrorConditions"].as_array();
    if input_type != "CMAF" && conditions.is_some_and(|c| !c.is_empty()) {
        return refuse(
            "ONLY_CMAF_INPUT_TYPE_ALLOW_FORCE_ENDPOINT_ERROR_CONFIGURATION",
            "ForceEndpointErrorConfiguration is valid only on a channel whose InputType is CMAF",
        );
    }
    Ok(())
}

/// Which manifests a container type serves (user guide: TS serves HLS and LL-HLS; CMAF serves
/// HLS, LL-HLS and DASH; ISM serves MSS), and ISM's other limits.
fn check_containers(container: &str, body: &Value) -> ApiResult<()> {
    let has = |kind| !manifests(body, kind).is_empty();
    let refusal = match container {
        "TS" if has(ManifestKind::Dash) => Some(("TS_CONTAINER_TYPE_WITH_DASH_MANIFEST", "DASH", "TS")),
        "TS" if has(ManifestKind::Mss) => Some(("TS_CONTAINER_TYPE_WITH_MSS_MANIFEST", "MSS", "TS")),
        "CMAF" if has(ManifestKind::Mss) => Some(("CMAF_CONTAINER_TYPE_WITH_MSS_MANIFEST", "MSS", "CMAF")),
        "ISM" if has(ManifestKind::Hls) => Some(("ISM_CONTAINER_TYPE_WITH_HLS_MANIFEST", "HLS", "ISM")),
        "ISM" if has(ManifestKind::LowLatencyHls) => {
            Some(("ISM_CONTAINER_TYPE_WITH_LL_HLS_MANIFEST", "low-latency HLS", "ISM"))
        }
        "ISM" if has(ManifestKind::Dash) => Some(("ISM_CONTAINER_TYPE_WITH_DASH_MANIFEST", "DASH", "ISM")),
        _ => None,
    };
    if let Some((kind, manifest, container)) = refusal {
        let serves = match container {
            "TS" => "HLS and low-latency HLS manifests",
            "CMAF" => "HLS, low-latency HLS and DASH manifests",
            _ => "MSS manifests",
        };
        return refuse(
            kind,
            format!(
                "An origin endpoint with the {container} container type can't have {manifest} manifests: it serves {serves}"
            ),
        );
    }
    if container == "ISM" && !body["Segment"]["Scte"].is_null() {
        return refuse(
            "ISM_CONTAINER_TYPE_WITH_SCTE",
            "Segment.Scte isn't supported with the ISM container type",
        );
    }
    Ok(())
}

/// Manifest names are unique within an origin endpoint, across every kind of manifest ("You
/// can't use the same manifest name if you use HLS manifest and low-latency HLS manifest"; MSS:
/// "The manifest name must be unique within the origin endpoint"), child manifests included. A
/// manifest's child may share its own manifest's name: the model's documented CreateOriginEndpoint
/// examples (aws-sdk-js-v3 `CreateOriginEndpointCommand.ts`, from the Smithy model) name
/// `exampleManifest2` as both, and child playlists carry a suffix (`index_1`) so their paths differ.
fn check_names(body: &Value) -> ApiResult<()> {
    let mut seen: Vec<&str> = Vec::new();
    for kind in ManifestKind::ALL {
        for manifest in manifests(body, kind) {
            let own = manifest["ManifestName"].as_str();
            let child = manifest["ChildManifestName"].as_str().filter(|c| Some(*c) != own);
            for name in [own, child].into_iter().flatten() {
                if seen.contains(&name) {
                    return refuse(
                        "MANIFEST_NAME_COLLISION",
                        format!(
                            "The manifest name {name} is used more than once in this origin endpoint: each manifest and child manifest needs its own name"
                        ),
                    );
                }
                seen.push(name);
            }
        }
    }
    Ok(())
}

/// A timestamp member: epoch seconds (REST-JSON's default) or ISO 8601 text.
pub(super) fn seconds(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_millisecond() as f64 / 1000.0),
        _ => None,
    }
}

/// FilterConfiguration (model): ClipStartTime excludes Start and End; End after Start; a time
/// delay "smaller than your endpoint's startover window".
fn check_filter(at: &str, filter: &Value, startover: Option<i64>) -> ApiResult<()> {
    if filter.is_null() {
        return Ok(());
    }
    let (start, end) = (seconds(&filter["Start"]), seconds(&filter["End"]));
    if !filter["ClipStartTime"].is_null() && (start.is_some() || end.is_some()) {
        return refuse(
            "CLIP_START_TIME_WITH_START_OR_END",
            format!("{at}.FilterConfiguration: ClipStartTime can't be used with Start or End"),
        );
    }
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        return refuse(
            "END_TIME_EARLIER_THAN_START_TIME",
            format!("{at}.FilterConfiguration: End must be later than Start"),
        );
    }
    if let (Some(delay), Some(window)) = (filter["TimeDelaySeconds"].as_i64(), startover)
        && delay >= window
    {
        return refuse(
            "INVALID_TIME_DELAY_SECONDS",
            format!(
                "{at}.FilterConfiguration.TimeDelaySeconds ({delay}) must be smaller than the endpoint's StartoverWindowSeconds ({window})"
            ),
        );
    }
    Ok(())
}

/// HLS and LL-HLS (model): the EXT-X-START offset's bounds; DATERANGE ad markers need program
/// date/time tags.
fn check_hls(at: &str, manifest: &Value, segment: f64) -> ApiResult<()> {
    let window = manifest["ManifestWindowSeconds"].as_f64().unwrap_or(60.0);
    if let Some(offset) = manifest["StartTag"]["TimeOffset"].as_f64() {
        let fits = if offset > 0.0 {
            offset < window - 3.0 * segment
        } else if offset < 0.0 {
            -offset > 3.0 * segment && -offset < window
        } else {
            true
        };
        if !fits {
            return refuse(
                "START_TAG_TIME_OFFSET_INVALID",
                format!(
                    "{at}.StartTag.TimeOffset {offset} is out of bounds: a positive offset must be less than the manifest window ({window} s) minus three segments ({segment} s each); a negative one's absolute value must be larger than three segments and smaller than the manifest window"
                ),
            );
        }
    }
    if manifest["ScteHls"]["AdMarkerHls"] == "DATERANGE" && manifest["ProgramDateTimeIntervalSeconds"].is_null() {
        return refuse(
            "MEMBER_MISSING",
            format!("{at}: DATERANGE ad markers need ProgramDateTimeIntervalSeconds of 1 or higher"),
        );
    }
    Ok(())
}

/// DASH (model and the enum of validation types): UTC timing modes and sources, period
/// triggers, DRM signaling, DVB-DASH attributes.
fn check_dash(at: &str, manifest: &Value, segment: &Value) -> ApiResult<()> {
    let timing = &manifest["UtcTiming"];
    let source = !timing["TimingSource"].is_null();
    match timing["TimingMode"].as_str() {
        Some("UTC_DIRECT") if source => {
            return refuse(
                "DIRECT_MODE_WITH_TIMING_SOURCE",
                format!("{at}.UtcTiming: the UTC_DIRECT timing mode takes no TimingSource"),
            );
        }
        Some("HTTP_HEAD" | "HTTP_ISO" | "HTTP_XSDATE") if !source => {
            return refuse(
                "TIMING_SOURCE_MISSING",
                format!(
                    "{at}.UtcTiming: the {} timing mode needs a TimingSource",
                    timing["TimingMode"]
                ),
            );
        }
        None if source => {
            return refuse(
                "NONE_MODE_WITH_TIMING_SOURCE",
                format!("{at}.UtcTiming: a TimingSource needs an HTTP timing mode"),
            );
        }
        _ => {}
    }
    let triggers = manifest["PeriodTriggers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if triggers.len() > 1 && triggers.iter().any(|t| t == "NONE") {
        return refuse(
            "PERIOD_TRIGGERS_NONE_SPECIFIED_WITH_ADDITIONAL_VALUES",
            format!("{at}.PeriodTriggers: NONE can't be combined with other period triggers"),
        );
    }
    if !manifest["DrmSignaling"].is_null() && segment["Encryption"].is_null() {
        return refuse(
            "DRM_SIGNALING_MISMATCH_SEGMENT_ENCRYPTION_STATUS",
            format!("{at}.DrmSignaling needs encrypted segments (Segment.Encryption)"),
        );
    }
    let dvb_profile = manifest["Profiles"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == "DVB_DASH"));
    let base_urls = manifest["BaseUrls"].as_array().map(Vec::as_slice).unwrap_or_default();
    let dvb_attributes = !manifest["DvbSettings"].is_null()
        || base_urls
            .iter()
            .any(|u| !u["DvbPriority"].is_null() || !u["DvbWeight"].is_null());
    if dvb_attributes && !dvb_profile {
        return refuse(
            "DASH_DVB_ATTRIBUTES_WITHOUT_DVB_DASH_PROFILE",
            format!("{at}: DvbSettings, DvbPriority and DvbWeight are for the DVB_DASH profile only"),
        );
    }
    Ok(())
}

/// Segment encryption: the container's own method (TsEncryptionMethod for TS,
/// CmafEncryptionMethod for CMAF, IsmEncryptionMethod for ISM), DRM systems the method supports
/// (CENC: not FairPlay; CBCS: not Irdeto), CMAF-only and non-ISM options.
fn check_segment(container: &str, segment: &Value) -> ApiResult<()> {
    let encryption = &segment["Encryption"];
    if encryption.is_null() {
        return Ok(());
    }
    let method = &encryption["EncryptionMethod"];
    let own = match container {
        "TS" => "TsEncryptionMethod",
        "CMAF" => "CmafEncryptionMethod",
        _ => "IsmEncryptionMethod",
    };
    let others = ["TsEncryptionMethod", "CmafEncryptionMethod", "IsmEncryptionMethod"]
        .into_iter()
        .filter(|m| *m != own);
    if method[own].is_null() || others.clone().any(|m| !method[m].is_null()) {
        return refuse(
            "ENCRYPTION_METHOD_CONTAINER_TYPE_MISMATCH",
            format!("Segment.Encryption.EncryptionMethod: the {container} container type takes {own} only"),
        );
    }
    let drm = encryption["SpekeKeyProvider"]["DrmSystems"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let incompatible = match method["CmafEncryptionMethod"].as_str() {
        Some("CENC") => Some("FAIRPLAY"),
        Some("CBCS") => Some("IRDETO"),
        _ => None,
    };
    if let Some(system) = incompatible
        && drm.iter().any(|d| d == system)
    {
        return refuse(
            "DRM_SYSTEMS_ENCRYPTION_METHOD_INCOMPATIBLE",
            format!(
                "The {} encryption method doesn't support the {system} DRM system",
                method["CmafEncryptionMethod"]
            ),
        );
    }
    if encryption["CmafExcludeSegmentDrmMetadata"] == true && container != "CMAF" {
        return refuse(
            "CMAF_EXCLUDE_SEGMENT_DRM_METADATA_INCOMPATIBLE_CONTAINER_TYPE",
            "Segment.Encryption.CmafExcludeSegmentDrmMetadata applies to the CMAF container type only",
        );
    }
    if container == "ISM" && !encryption["KeyRotationIntervalSeconds"].is_null() {
        return refuse(
            "ISM_CONTAINER_WITH_KEY_ROTATION",
            "Key rotation (KeyRotationIntervalSeconds) isn't supported with the ISM container type",
        );
    }
    Ok(())
}
