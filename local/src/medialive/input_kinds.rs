//! What each MediaLive input type is: push or pull, which members carry its sources, and what
//! livestream-local can stream from it. Every type of the service model's `InputType` is accepted
//! and described back as sent; only RTMP push and the pull types ffmpeg reads stream locally.

use serde_json::{Map, Value};

/// Members of CreateInput / UpdateInput kept and described back as sent (the response shapes
/// have the same members as the request shapes for these).
pub const AS_SENT: &[&str] = &[
    "sources",
    "mediaConnectFlows",
    "inputDevices",
    "srtSettings",
    "multicastSettings",
    "smpte2110ReceiverGroupSettings",
    "sdiSources",
    "routerSettings",
    "inputNetworkLocation",
];

/// How the quotas count an input ("Quotas in AWS Elemental MediaLive":
/// https://docs.aws.amazon.com/medialive/latest/ug/limits.html).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Upstream pushes to MediaLive: RTMP, RTP, UDP, SRT listener.
    Push,
    /// MediaLive pulls from a URL: RTMP pull, URL (HLS) pull, MP4 and TS files, SRT caller.
    Pull,
    /// MediaConnect, Link devices, CDI, multicast, SMPTE 2110, SDI, router: counted by no
    /// documented quota here.
    Other,
}

pub fn family(input_type: &str) -> Family {
    match input_type {
        "RTMP_PUSH" | "RTP_PUSH" | "UDP_PUSH" | "SRT_LISTENER" => Family::Push,
        "RTMP_PULL" | "URL_PULL" | "MP4_FILE" | "TS_FILE" | "SRT_CALLER" => Family::Pull,
        _ => Family::Other,
    }
}

/// Pull types whose `sources[].url` ffmpeg reads: a channel with such an input streams.
pub fn ffmpeg_pulls(input_type: &str) -> bool {
    matches!(input_type, "RTMP_PULL" | "URL_PULL" | "MP4_FILE" | "TS_FILE")
}

/// Push types that need an input security group (RTMP push has its own listener here; RTP and
/// UDP push are described but not listened on). A VPC input is reached through the VPC instead.
/// Source: "When you create a push input, you must attach an input security group" (user guide,
/// https://docs.aws.amazon.com/medialive/latest/ug/create-input-security-groups.html); "You must
/// use an input security group with an SRT Listener input" (user guide,
/// https://docs.aws.amazon.com/medialive/latest/ug/input-listener-srt.html).
pub fn needs_security_group(input_type: &str, body: &Value) -> bool {
    matches!(input_type, "RTMP_PUSH" | "RTP_PUSH" | "UDP_PUSH" | "SRT_LISTENER") && body["vpc"].is_null()
}

/// The sources of the input, one per pipeline: what decides its class.
fn legs(input_type: &str, members: &Map<String, Value>) -> usize {
    let count = |key: &str| members.get(key).and_then(Value::as_array).map_or(0, Vec::len);
    match input_type {
        "MEDIACONNECT" => count("mediaConnectFlows"),
        "INPUT_DEVICE" => count("inputDevices"),
        "SRT_CALLER" => (members.get("srtSettings"))
            .and_then(|s| s["srtCallerSources"].as_array())
            .map_or(0, Vec::len),
        "MULTICAST" => (members.get("multicastSettings"))
            .and_then(|s| s["sources"].as_array())
            .map_or(0, Vec::len),
        "SDI" => count("sdiSources"),
        _ => count("sources"),
    }
}

/// STANDARD with two sources (one per pipeline), else SINGLE_PIPELINE (the model's `InputClass`:
/// "STANDARD - MediaLive expects two sources to be connected to this input").
pub fn input_class(input_type: &str, members: &Map<String, Value>, push_destinations: usize) -> &'static str {
    let legs = match input_type {
        "RTMP_PUSH" | "RTP_PUSH" | "UDP_PUSH" | "SRT_LISTENER" => push_destinations,
        other => legs(other, members),
    };
    if legs == 2 { "STANDARD" } else { "SINGLE_PIPELINE" }
}

/// DYNAMIC for file inputs whose URL has the `$urlPath$` variable an input switch fills in (the
/// model's `InputSourceType`: "Currently, two input types support a dynamic url at this time,
/// MP4_FILE and TS_FILE"), else STATIC.
pub fn source_type(input_type: &str, members: &Map<String, Value>) -> &'static str {
    let dynamic = matches!(input_type, "MP4_FILE" | "TS_FILE")
        && (members.get("sources").and_then(Value::as_array).into_iter().flatten())
            .any(|s| s["url"].as_str().is_some_and(|u| u.contains("$urlPath$")));
    if dynamic { "DYNAMIC" } else { "STATIC" }
}

/// The members of `body` that are described back as sent.
pub fn as_sent(body: &Value) -> Map<String, Value> {
    members(body, AS_SENT)
}

/// The members `keys` of `body` that are set (null counts as unset), as sent.
pub(super) fn members(body: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| {
            body.get(*k)
                .filter(|v| !v.is_null())
                .map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect()
}

/// A pull input's sources need a URL: AWS answers 400 BadRequestException `Invalid URL ()
/// specified for inputSource` to a URL_PULL input without one (public issue
/// https://github.com/awslabs/live-streaming-with-automated-multi-language-subtitling/issues/16).
pub fn source_url_error(input_type: &str, members: &Map<String, Value>) -> Option<String> {
    if !matches!(input_type, "RTMP_PULL" | "URL_PULL" | "MP4_FILE" | "TS_FILE") {
        return None;
    }
    let sources = members
        .get("sources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let empty = || Some("Invalid URL () specified for inputSource".to_owned());
    if sources.is_empty() {
        return empty();
    }
    sources.iter().find_map(|s| match s["url"].as_str() {
        None | Some("") => empty(),
        Some(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classes_follow_the_number_of_sources_and_file_urls_with_a_variable_are_dynamic() {
        let two = as_sent(&json!({"sources": [{"url": "http://a/x.m3u8"}, {"url": "http://b/x.m3u8"}]}));
        assert_eq!(input_class("URL_PULL", &two, 0), "STANDARD");
        let one = as_sent(&json!({"mediaConnectFlows": [{"flowArn": "arn:f"}]}));
        assert_eq!(input_class("MEDIACONNECT", &one, 0), "SINGLE_PIPELINE");
        assert_eq!(input_class("RTMP_PUSH", &Map::new(), 2), "STANDARD");
        let dynamic = as_sent(&json!({"sources": [{"url": "s3ssl://b/$urlPath$"}]}));
        assert_eq!(source_type("MP4_FILE", &dynamic), "DYNAMIC");
        assert_eq!(source_type("URL_PULL", &dynamic), "STATIC");
    }

    #[test]
    fn a_pull_input_without_a_source_url_is_refused_in_aws_words() {
        let none = as_sent(&json!({"sources": [{"url": ""}]}));
        assert_eq!(
            source_url_error("URL_PULL", &none).as_deref(),
            Some("Invalid URL () specified for inputSource")
        );
        assert!(source_url_error("MP4_FILE", &Map::new()).is_some());
        assert_eq!(source_url_error("MEDIACONNECT", &Map::new()), None);
    }
}
