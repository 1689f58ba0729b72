//! The manifests an origin endpoint serves: their kinds, their playback URLs on livestream-local's
//! port, the lookup the media step uses ([`MediaPackageV2::manifest`]) and the origin's entry
//! point ([`serve_origin`]).

use serde_json::Value;

use super::{MediaPackageV2, origin_endpoints::endpoint_of};

/// The kinds of manifest an origin endpoint serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestKind {
    Hls,
    LowLatencyHls,
    Dash,
    Mss,
}

impl ManifestKind {
    pub(super) const ALL: [ManifestKind; 4] = [Self::Hls, Self::LowLatencyHls, Self::Dash, Self::Mss];

    /// The request and response member listing manifests of this kind.
    pub(super) fn member(self) -> &'static str {
        match self {
            Self::Hls => "HlsManifests",
            Self::LowLatencyHls => "LowLatencyHlsManifests",
            Self::Dash => "DashManifests",
            Self::Mss => "MssManifests",
        }
    }

    /// The last part of the manifest's URL after its name.
    pub(super) fn suffix(self) -> &'static str {
        match self {
            Self::Hls | Self::LowLatencyHls => ".m3u8",
            Self::Dash => ".mpd",
            Self::Mss => ".ism/Manifest",
        }
    }
}

/// What one manifest URL of an origin endpoint serves, for the media step.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestSettings {
    pub kind: ManifestKind,
    /// The manifest's configuration as GetOriginEndpoint describes it (defaults filled, `Url`).
    pub manifest: Value,
    /// The whole origin endpoint as GetOriginEndpoint describes it (`ContainerType`, `Segment`
    /// with its defaults, `StartoverWindowSeconds` ...).
    pub endpoint: Value,
    /// The channel's `InputType` (HLS or CMAF).
    pub input_type: String,
}

impl MediaPackageV2 {
    /// A manifest's playback URL on livestream-local's port, in AWS's path layout.
    pub fn manifest_url(&self, g: &str, c: &str, e: &str, kind: ManifestKind, name: &str) -> String {
        format!(
            "{}/out/v1/{g}/{c}/{e}/{name}{}",
            self.inner.config.public_url(),
            kind.suffix()
        )
    }

    /// The configuration one manifest URL serves: group, channel, endpoint and manifest name →
    /// the manifest's and the endpoint's settings (as GetOriginEndpoint describes them) and the
    /// channel's input type. None when any of them does not exist.
    pub fn manifest(&self, group: &str, channel: &str, endpoint: &str, name: &str) -> Option<ManifestSettings> {
        let state = self.inner.state.lock().unwrap();
        let c = state.groups.get(group)?.channels.get(channel)?;
        let described = self.endpoint_json(group, channel, c.endpoints.get(endpoint)?);
        ManifestKind::ALL.into_iter().find_map(|kind| {
            let manifests = described[kind.member()].as_array()?;
            let manifest = manifests.iter().find(|m| m["ManifestName"] == name)?;
            Some(ManifestSettings {
                kind,
                manifest: manifest.clone(),
                endpoint: described.clone(),
                input_type: c.input_type.clone(),
            })
        })
    }

    pub(super) fn has_endpoint(&self, group: &str, channel: &str, endpoint: &str) -> bool {
        let state = self.inner.state.lock().unwrap();
        endpoint_of(&state, group, channel, endpoint).is_some()
    }
}

/// The endpoint and the file of `GET /out/v1/{group}/{channel}/{endpoint}/...` (`rest` is the
/// path after `/out/v1/`) when it is an origin endpoint MediaPackage v2 has (None otherwise: the
/// path may be MediaPackage v1's); [`super::origin::serve`] answers it.
pub(super) fn origin_file(v2: &MediaPackageV2, rest: &str) -> Option<((String, String, String), Vec<String>)> {
    let parts: Vec<&str> = rest.split('/').collect();
    let [g, c, e, file @ ..] = parts.as_slice() else {
        return None;
    };
    if file.is_empty() || !v2.has_endpoint(g, c, e) {
        return None;
    }
    let file = file.iter().map(|s| (*s).to_owned()).collect();
    Some((((*g).to_owned(), (*c).to_owned(), (*e).to_owned()), file))
}
