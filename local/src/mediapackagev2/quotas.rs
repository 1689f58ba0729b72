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
        crate::quota_flags::parse(
            spec,
            &mut [
                ("channelGroups", &mut quotas.channel_groups),
                ("channels", &mut quotas.channels),
                ("originEndpoints", &mut quotas.origin_endpoints),
                ("manifests", &mut quotas.manifests),
            ],
        )?;
        Ok(quotas)
    }
}
