//! `spec.delivery`: how viewers reach the stream — through a CloudFront distribution in front of
//! the MediaPackage origin and the player bucket (the default for new streams), or straight from
//! the origin and a public S3 page.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the stream reaches its viewers.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySpec {
    /// CloudFront: a distribution per stream serves the manifests, segments and player page, and
    /// the player bucket stays private (read through an Origin Access Control). Direct: viewers
    /// read the MediaPackage origin and a public S3 page. Unset: a stream keeps what it has
    /// (status.delivery); a new stream gets the operator's --delivery (CloudFront). Changing it
    /// moves the URLs first, then removes what the old mode used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DeliveryMode>,

    /// CloudFront's price class: which edge locations serve viewers. PriceClass_100 (North
    /// America, Europe, Israel; the cheapest; default), PriceClass_200, PriceClass_All.
    #[serde(default)]
    pub price_class: PriceClass,
}

#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeliveryMode {
    /// An Amazon CloudFront distribution.
    #[default]
    CloudFront,
    /// The origin's own URLs.
    Direct,
}

impl DeliveryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CloudFront => "CloudFront",
            Self::Direct => "Direct",
        }
    }
}

#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub enum PriceClass {
    #[default]
    PriceClass_100,
    PriceClass_200,
    PriceClass_All,
}

impl PriceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PriceClass_100 => "PriceClass_100",
            Self::PriceClass_200 => "PriceClass_200",
            Self::PriceClass_All => "PriceClass_All",
        }
    }
}

impl DeliverySpec {
    /// The mode in effect: the spec's; else what status says the stream uses; else Direct for a
    /// stream that already has playback URLs from a release without CloudFront (no silent move of
    /// an audience's URLs); else the operator's default.
    pub fn effective_mode(
        &self,
        recorded: Option<DeliveryMode>,
        has_urls: bool,
        default: DeliveryMode,
    ) -> DeliveryMode {
        self.mode
            .or(recorded)
            .unwrap_or(if has_urls { DeliveryMode::Direct } else { default })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_keeps_its_delivery_unless_the_spec_says_otherwise() {
        let unset = DeliverySpec::default();
        let cf = DeliveryMode::CloudFront;
        let direct = DeliveryMode::Direct;
        assert_eq!(unset.effective_mode(None, false, cf), cf, "new stream: the default");
        assert_eq!(unset.effective_mode(None, true, cf), direct, "URLs from before: kept");
        assert_eq!(unset.effective_mode(Some(cf), true, direct), cf, "recorded wins");
        let asked = DeliverySpec {
            mode: Some(direct),
            ..DeliverySpec::default()
        };
        assert_eq!(asked.effective_mode(Some(cf), false, cf), direct, "the spec wins");
    }
}
