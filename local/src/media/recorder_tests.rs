//! Unit tests of the recorder ([`super`]): identifiers, HLS segments and playlists, archives.

use super::*;

fn group(kind: S3GroupKind) -> S3Group {
    S3Group {
        kind,
        bucket: "rec".into(),
        base_key: "live/index".into(),
        acl: None,
        outputs: vec![S3Output {
            rendition: "v720".into(),
            name_modifier: "_720p".into(),
            extension: "ts".into(),
        }],
    }
}

fn hls(vod: bool) -> S3Group {
    group(S3GroupKind::Hls {
        segment_seconds: 4.0,
        vod,
        index_segments: 2,
    })
}

fn segment(seq: u64, discontinuity: bool) -> Segment {
    Segment {
        duration: 2.0,
        discontinuity,
        bytes: Arc::new(vec![seq as u8; 2]),
    }
}

fn text(write: &Write) -> String {
    String::from_utf8(write.body.to_vec()).unwrap()
}

#[test]
fn reads_s3_urls() {
    assert_eq!(
        parse_s3_url("s3ssl://bucket/live/index"),
        Some(("bucket".into(), "live/index".into()))
    );
    assert_eq!(parse_s3_url("s3://b/x"), Some(("b".into(), "x".into())));
    assert_eq!(parse_s3_url("s3ssl://bucket"), None);
}

#[test]
fn date_and_time_identifiers_resolve_to_the_channel_start() {
    let at: jiff::Timestamp = "2026-03-04T05:06:07.890Z".parse().unwrap();
    assert_eq!(resolve_identifiers("live/$dt$/index", at), "live/20260304T050607/index");
    assert_eq!(resolve_identifiers("a/$d$/$t$/b", at), "a/20260304/050607/b");
    assert_eq!(resolve_identifiers("cost$$5/$rv$/x", at), "cost$5/$rv$/x");
    assert_eq!(resolve_identifiers("plain/index", at), "plain/index");
    assert_eq!(resolve_identifiers("end$", at), "end$");
    assert_eq!(parse_s3_url("https://example.com/x"), None);
}

#[test]
fn hls_segments_last_the_segment_length_and_live_playlists_show_the_newest() {
    let ladder = Ladder {
        gop_seconds: 2.0,
        renditions: Vec::new(),
    };
    let mut live = Sink::new(hls(false));
    let mut keys = Vec::new();
    // Three full 4 s segments of two GOPs each; the third follows an ffmpeg restart.
    for seq in 0..6 {
        keys.extend(live.accept("v720", &segment(seq, seq == 4)).into_iter().map(|w| w.key));
    }
    assert_eq!(
        keys,
        [
            "live/index_720p_00001.ts",
            "live/index_720p_00002.ts",
            "live/index_720p_00003.ts"
        ]
    );
    let writes = live.playlists("v720", &ladder, false);
    let playlist = text(&writes[0]);
    assert_eq!(writes[0].key, "live/index_720p.m3u8");
    assert!(
        playlist.contains("#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:2\n"),
        "{playlist}"
    );
    assert!(
        playlist.contains("#EXT-X-DISCONTINUITY\n#EXTINF:4.000,\nindex_720p_00003.ts"),
        "{playlist}"
    );
    assert!(!playlist.contains("ENDLIST"));
    assert_eq!(writes[1].key, "live/index.m3u8");
    // Nothing changed: nothing is rewritten.
    assert!(live.playlists("v720", &ladder, false).is_empty());

    let mut vod = Sink::new(hls(true));
    for seq in 0..3 {
        vod.accept("v720", &segment(seq, false));
    }
    let last = vod.close_all();
    assert_eq!(
        (last[0].key.as_str(), last[0].body.len()),
        ("live/index_720p_00002.ts", 2)
    );
    let playlist = text(&vod.playlists("v720", &ladder, true)[0]);
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.000,\nindex_720p_00001.ts"),
        "{playlist}"
    );
    assert!(
        playlist.ends_with("#EXTINF:2.000,\nindex_720p_00002.ts\n#EXT-X-ENDLIST\n"),
        "{playlist}"
    );
}

#[test]
fn archives_roll_over_on_the_interval_and_close_the_last_file() {
    let mut archive = group(S3GroupKind::Archive { rollover_seconds: 4.0 });
    archive.outputs[0].name_modifier = "_1".into();
    let mut sink = Sink::new(archive);
    assert!(sink.accept("v720", &segment(0, false)).is_empty());
    let rolled = sink.accept("v720", &segment(1, false));
    assert_eq!(rolled[0].key, "live/index_1.000001.ts");
    assert_eq!(rolled[0].body.as_slice(), [0, 0, 1, 1]);
    assert!(sink.accept("v720", &segment(2, false)).is_empty());
    assert!(
        sink.playlists(
            "v720",
            &Ladder {
                gop_seconds: 2.0,
                renditions: Vec::new()
            },
            true
        )
        .is_empty()
    );
    let last = sink.close_all();
    assert_eq!(last[0].key, "live/index_1.000002.ts");
    assert!(sink.close_all().is_empty());
}
