//! What MediaLive asks of the MediaPackage services its channels write to, as narrow traits each
//! of them implements (as `media::InputGate` is what the RTMP front door asks of MediaLive): no
//! service imports another, and `main` hands MediaLive the two it registered.

/// MediaPackage (v1) as a channel's destination.
pub trait PackageV1: Send + Sync {
    /// Whether MediaLive sees channel `id`: it exists and its consistency delay has passed.
    fn channel_visible(&self, id: &str) -> bool;
}

/// MediaPackage v2 as a channel's destination.
pub trait PackageV2: Send + Sync {
    fn channel_exists(&self, group: &str, channel: &str) -> bool;

    /// The longest startover window of the channel's origin endpoints, in seconds (how long its
    /// segments must be kept for harvest jobs); None without one.
    fn longest_startover_window(&self, group: &str, channel: &str) -> Option<f64>;
}
