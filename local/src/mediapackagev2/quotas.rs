//! MediaPackage v2's quotas, AWS's defaults unless `--mediapackagev2-quotas` raises them.

crate::quota_flags::quotas! {
    /// MediaPackage v2's soft quotas (user guide, "Quotas in AWS Elemental MediaPackage").
    /// AWS's defaults: 3 channel groups per account, 10 channels per channel group, 10 origin
    /// endpoints per channel, 25 manifests per origin endpoint.
    pub struct Quotas {
        channel_groups: "channelGroups" = 3,
        channels: "channels" = 10,
        origin_endpoints: "originEndpoints" = 10,
        manifests: "manifests" = 25,
    }
}
