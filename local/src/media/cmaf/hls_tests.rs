use super::*;
use crate::media::cmaf::index::tests::{part, rendition};

fn options(part_target: Option<f64>) -> PlaylistOptions<'static> {
    PlaylistOptions {
        window_seconds: 60,
        nominal_segment: 4.0,
        part_target,
        segment_name: "segment",
    }
}

fn tag_values<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    text.lines().filter_map(|l| l.strip_prefix(tag)).collect()
}

#[test]
fn resources_round_trip_through_their_uris() {
    for r in [Resource::Init(3), Resource::Segment(17), Resource::Part(17, 4)] {
        assert_eq!(Resource::parse(&r.uri("seg_x"), "seg_x"), Some(r));
    }
    assert_eq!(Resource::parse("segment_17.ts", "segment"), None);
    assert_eq!(Resource::parse("other_17.mp4", "segment"), None);
    assert_eq!(Resource::parse("segment_a.mp4", "segment"), None);
}

#[test]
fn a_cmaf_playlist_maps_the_init_segment_and_dates_its_segments() {
    // 4 s segments (2 GOPs); 27 parts: segments 0 and 1 complete, 3 parts of segment 2.
    let r = rendition(27);
    let segments = r.segments(2);
    let text = render_media_playlist(&segments, &options(None)).unwrap();
    assert!(
        text.starts_with("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"),
        "{text}"
    );
    assert_eq!(tag_values(&text, "#EXT-X-MAP:URI="), ["\"segment_init_0.mp4\""]);
    assert_eq!(tag_values(&text, "#EXT-X-PROGRAM-DATE-TIME:").len(), 2);
    assert!(text.contains("#EXTINF:4.00000,\nsegment_0.mp4\n#EXT-X-PROGRAM-DATE-TIME:"));
    assert!(text.ends_with("#EXTINF:4.00000,\nsegment_1.mp4\n"), "{text}");
    assert!(!text.contains("#EXT-X-PART") && !text.contains("PRELOAD"));
}

#[test]
fn a_low_latency_playlist_lists_parts_no_longer_than_the_target_and_hints_the_next() {
    let r = rendition(27);
    let segments = r.segments(2);
    let text = render_media_playlist(&segments, &options(Some(10.0 / 30.0))).unwrap();
    assert!(text.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002\n"));
    assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=0.334\n"));
    let parts = tag_values(&text, "#EXT-X-PART:");
    // Segments 0 and 1 (12 parts each) and the 3 parts of segment 2 so far.
    assert_eq!(parts.len(), 27);
    for p in &parts {
        let duration: f64 = p
            .strip_prefix("DURATION=")
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(duration <= 0.334, "{p}");
    }
    assert_eq!(parts.iter().filter(|p| p.ends_with("INDEPENDENT=YES")).count(), 5);
    assert!(parts[24].contains("URI=\"segment_2_0.mp4\""));
    assert!(text.ends_with(
        "#EXT-X-PART:DURATION=0.33333,URI=\"segment_2_2.mp4\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment_2_3.mp4\"\n"
    ));
    // The in-progress segment has no EXTINF yet.
    assert!(!text.contains("segment_2.mp4"));
    // Once segment 2 completes, the hint is the first part of segment 3.
    let r = rendition(36);
    let text = render_media_playlist(&r.segments(2), &options(Some(10.0 / 30.0))).unwrap();
    assert!(text.ends_with("segment_2.mp4\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"segment_3_0.mp4\"\n"));
}

#[test]
fn the_window_and_older_parts_are_trimmed() {
    let r = rendition(120); // 10 segments of 4 s
    let mut o = options(Some(1.0 / 3.0));
    o.window_seconds = 30; // 8 segments
    let text = render_media_playlist(&r.segments(2), &o).unwrap();
    assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:2\n"));
    assert_eq!(tag_values(&text, "#EXTINF:").len(), 8);
    // Parts only for the last two segments.
    assert_eq!(tag_values(&text, "#EXT-X-PART:").len(), 24);
    assert!(!text.contains("segment_7_0.mp4") && text.contains("segment_8_0.mp4"));
}

#[test]
fn a_new_run_is_a_discontinuity_with_its_own_init_segment() {
    let mut r = rendition(24);
    r.end_run(0);
    r.begin_run(crate::media::cmaf::index::RunStart::video(
        1,
        bytes::Bytes::new(),
        15360,
    ));
    for i in 0..12 {
        r.add_part(1, part(i * 10, 10, i % 6 == 0), 600.0);
    }
    let text = render_media_playlist(&r.segments(2), &options(None)).unwrap();
    assert!(text.contains("segment_1.mp4\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"segment_init_1.mp4\"\n"));
    let mut o = options(None);
    o.window_seconds = 4;
    let text = render_media_playlist(&r.segments(2), &o).unwrap();
    // The window starts at the new run: the discontinuity is in the playlist, counted from 0.
    assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:2\n") && !text.contains("DISCONTINUITY-SEQUENCE"));
    assert!(
        text.contains("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"segment_init_1.mp4\""),
        "{text}"
    );
}

#[test]
fn blocking_reload_waits_for_the_segment_or_part_asked_for() {
    let r = rendition(15); // segment 0 complete, 3 parts of segment 1
    let s = r.segments(2);
    assert_eq!(reload(&s, 0, None), Reload::Ready);
    assert_eq!(reload(&s, 1, None), Reload::Wait);
    assert_eq!(reload(&s, 1, Some(2)), Reload::Ready);
    assert_eq!(reload(&s, 1, Some(3)), Reload::Wait);
    assert_eq!(
        reload(&s, 1, Some(6)),
        Reload::BadRequest,
        "past the advance part limit"
    );
    assert_eq!(reload(&s, 2, None), Reload::Wait);
    assert_eq!(reload(&s, 3, None), Reload::BadRequest, "more than two segments ahead");
    // A segment that completed with fewer parts than asked for: its successor's first part.
    let r = rendition(24);
    let s = r.segments(2);
    assert_eq!(reload(&s, 1, Some(12)), Reload::Wait);
    let r = rendition(25);
    assert_eq!(reload(&r.segments(2), 1, Some(12)), Reload::Ready);
    // Nothing will come after the end of the run.
    let mut r = rendition(15);
    r.end_run(0);
    assert_eq!(reload(&r.segments(2), 2, None), Reload::Ready);
}

#[test]
fn a_hinted_part_is_waited_for_and_a_past_one_is_gone() {
    let r = rendition(15);
    let s = r.segments(2);
    assert!(matches!(part_state(&s, 1, 2), PartState::Ready(_)));
    assert_eq!(part_state(&s, 1, 3), PartState::Wait);
    assert_eq!(part_state(&s, 2, 0), PartState::Wait);
    assert_eq!(part_state(&s, 1, 9), PartState::Gone);
    assert_eq!(part_state(&s, 0, 12), PartState::Gone);
    assert_eq!(part_state(&s, 5, 0), PartState::Gone);
}
