//! Who owns an AWS resource and what it is called: the owner tags every resource carries and the
//! deterministic names derived from the stream's channel id.

use std::collections::HashMap;

use kube::ResourceExt;

use crate::{api::LiveStream, resource::Role};

/// Tag keys that mark an AWS resource as owned by a LiveStream. The operator finds and adopts its
/// resources by these after a restart, so they never change.
pub mod tag {
    pub const MANAGED_BY: &str = "livestream.io/managed-by";
    pub const NAMESPACE: &str = "livestream.io/namespace";
    pub const NAME: &str = "livestream.io/name";
    pub const UID: &str = "livestream.io/uid";
    /// Which of the stream's resources of a kind (inputs: `primary`, `backup`); absent on
    /// resources made before roles, which are the primary.
    pub const ROLE: &str = "livestream.io/role";
    pub const OPERATOR: &str = "livestream-operator";
}

/// The owner tags of every AWS resource of `stream`.
pub fn owner_tags(stream: &LiveStream) -> HashMap<String, String> {
    HashMap::from([
        (tag::MANAGED_BY.to_owned(), tag::OPERATOR.to_owned()),
        (tag::NAMESPACE.to_owned(), stream.namespace().unwrap_or_default()),
        (tag::NAME.to_owned(), stream.name_any()),
        (tag::UID.to_owned(), stream.uid().unwrap_or_default()),
    ])
}

/// Deterministic names, derived from the channel id, so a retried create finds the first one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// MediaPackage channel id (also the MediaLive channel's name).
    pub channel: String,
    /// MediaPackage HLS origin endpoint id.
    pub endpoint: String,
    /// The protocol in the inputs' names (`rtmp`, `srt`).
    pub protocol: &'static str,
    /// The Secrets Manager secret that holds the SRT passphrase: the stream's uid in it, so a
    /// stream made again under the same name is not refused by a predecessor's secret still in
    /// its recovery window.
    pub passphrase_secret: String,
}

impl Names {
    pub fn of(stream: &LiveStream) -> Self {
        let channel = stream.channel_id();
        let protocol = match stream.spec.input.protocol {
            crate::api::IngestProtocol::Rtmp => "rtmp",
            crate::api::IngestProtocol::Srt => "srt",
        };
        Self {
            endpoint: format!("{channel}-hls"),
            passphrase_secret: format!(
                "livestream/{}/{}/{}/srt-passphrase",
                stream.namespace().unwrap_or_default(),
                stream.name_any(),
                stream.uid().unwrap_or_default()
            ),
            protocol,
            channel,
        }
    }

    /// The name of the stream's input in `role` (also its attachment's name in the channel).
    pub fn input(&self, role: Role) -> String {
        match role {
            Role::Main | Role::Primary => format!("{}-{}", self.channel, self.protocol),
            other => format!("{}-{}-{}", self.channel, self.protocol, other.as_str()),
        }
    }
}
