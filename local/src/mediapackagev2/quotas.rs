//! MediaPackage v2's quotas, AWS's defaults unless `--mediapackagev2-quotas` raises them.

/// MediaPackage v2's soft quotas (user guide, "Quotas in AWS Elemental MediaPackage").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub channel_groups: usize,
    pub channels: usize,
    pub origin_endpoints: usize,
    pub manifests: usize,
}

impl Default for Quotas {
    /// AWS's defaults: 3 channel groups per account, 10 channels per channel group, 10 origin
    /// endpoints per channel, 25 manifests per origin endpoint.
    fn default() -> Self {
        Self {
            channel_groups: 3,
            channels: 10,
            origin_endpoints: 10,
            manifests: 25,
        }
    }
}

impl Quotas {
    /// `channelGroups=N,channels=N,originEndpoints=N,manifests=N` (any subset; the rest default).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut quotas = Self::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').ok_or("expected NAME=N")?;
            let value: usize = value.parse().map_err(|e| format!("{name}: {e}"))?;
            match name {
                "channelGroups" => quotas.channel_groups = value,
                "channels" => quotas.channels = value,
                "originEndpoints" => quotas.origin_endpoints = value,
                "manifests" => quotas.manifests = value,
                other => {
                    return Err(format!(
                        "unknown quota {other:?} (channelGroups, channels, originEndpoints, manifests)"
                    ));
                }
            }
        }
        Ok(quotas)
    }
}
