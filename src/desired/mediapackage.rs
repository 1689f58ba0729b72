//! MediaPackage requests: the HLS origin endpoint's packaging.

use aws_sdk_mediapackage::types::{
    AdMarkers, HlsPackage, PlaylistType, StreamOrder as AwsStreamOrder, StreamSelection,
};

use crate::api::{HlsSpec, StreamOrder};

/// The endpoint's HLS package: segment length, playlist window, bitrate filter and order.
pub fn hls_package(hls: &HlsSpec) -> HlsPackage {
    HlsPackage::builder()
        .segment_duration_seconds(hls.segment_duration_seconds)
        .playlist_window_seconds(hls.playlist_window_seconds)
        .playlist_type(PlaylistType::None)
        .ad_markers(AdMarkers::None)
        .include_iframe_only_stream(false)
        .stream_selection(
            StreamSelection::builder()
                .min_video_bits_per_second(hls.min_video_bits_per_second)
                .max_video_bits_per_second(hls.max_video_bits_per_second)
                .stream_order(stream_order(hls.stream_order))
                .build(),
        )
        .build()
}

fn stream_order(order: StreamOrder) -> AwsStreamOrder {
    match order {
        StreamOrder::Original => AwsStreamOrder::Original,
        StreamOrder::VideoBitrateAscending => AwsStreamOrder::VideoBitrateAscending,
        StreamOrder::VideoBitrateDescending => AwsStreamOrder::VideoBitrateDescending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_every_hls_setting() {
        let hls = HlsSpec {
            segment_duration_seconds: 2,
            playlist_window_seconds: 30,
            min_video_bits_per_second: 1_000_000,
            max_video_bits_per_second: 4_000_000,
            stream_order: StreamOrder::VideoBitrateDescending,
        };
        let package = hls_package(&hls);
        assert_eq!(package.segment_duration_seconds, Some(2));
        assert_eq!(package.playlist_window_seconds, Some(30));
        let selection = package.stream_selection.unwrap();
        assert_eq!(selection.min_video_bits_per_second, Some(1_000_000));
        assert_eq!(selection.max_video_bits_per_second, Some(4_000_000));
        assert_eq!(selection.stream_order, Some(AwsStreamOrder::VideoBitrateDescending));
    }
}
