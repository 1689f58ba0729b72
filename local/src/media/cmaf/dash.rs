//! A dynamic DASH MPD (ISO/IEC 23009-1, isoff-live profile) over CMAF endpoint segments: one
//! Period for the current ffmpeg run (its media time 0 is the availabilityStartTime), a video
//! AdaptationSet (a Representation per rendition) and an audio one, each Representation with a
//! SegmentTemplate and SegmentTimeline numbered with the endpoint's segment sequence numbers.

use std::fmt::Write;
use std::time::SystemTime;

use super::hls::{Resource, date_time};
use super::index::Segment;
use crate::media::layout::LadderRendition;

/// One Representation: a rendition and its segments.
pub struct Representation<'a> {
    pub rendition: &'a LadderRendition,
    pub codecs: &'a str,
    pub segments: Vec<Segment<'a>>,
}

/// The MPD's player guidance, in seconds: `minimumUpdatePeriod`, `minBufferTime` and
/// `suggestedPresentationDelay` (the manifest's `MinUpdatePeriodSeconds`, `MinBufferTimeSeconds`
/// and `SuggestedPresentationDelaySeconds`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayerTiming {
    pub min_update_period: f64,
    pub min_buffer_time: f64,
    pub presentation_delay: f64,
}

impl Default for PlayerTiming {
    /// What MediaPackage v2 writes for a 2 s-segment endpoint in the MPD of the v2 User Guide's
    /// "DASH manifest compactness" page: `minimumUpdatePeriod="PT2S" minBufferTime="PT5S"
    /// suggestedPresentationDelay="PT10S"`.
    fn default() -> Self {
        Self {
            min_update_period: 2.0,
            min_buffer_time: 5.0,
            presentation_delay: 10.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct MpdOptions<'a> {
    pub window_seconds: u32,
    pub nominal_segment: f64,
    pub timing: PlayerTiming,
    pub now: SystemTime,
    /// The folder the media URLs are under, relative to the MPD (the manifest's name).
    pub media_folder: &'a str,
    pub segment_name: &'a str,
}

fn duration(seconds: f64) -> String {
    format!("PT{seconds:.3}S")
}

/// The video and audio entries of a muxed codecs string (`avc1.64001f,mp4a.40.2`).
fn split_codecs(codecs: &str) -> (String, Option<String>) {
    let (audio, video): (Vec<&str>, Vec<&str>) = codecs.split(',').map(str::trim).partition(|c| c.starts_with("mp4a"));
    (video.join(","), audio.first().map(|a| (*a).to_owned()))
}

/// A Representation's SegmentTemplate and SegmentTimeline.
fn segment_template(
    out: &mut String,
    timescale: u32,
    folder: &str,
    init: &str,
    media: &str,
    first: u64,
    s: &[(u64, u64)],
) {
    let _ = writeln!(
        out,
        "        <SegmentTemplate timescale=\"{timescale}\" initialization=\"{folder}/{init}\" media=\"{folder}/{media}\" startNumber=\"{first}\">"
    );
    out.push_str("          <SegmentTimeline>\n");
    for (start, length, repeat) in timeline(s) {
        let r = if repeat > 0 {
            format!(" r=\"{repeat}\"")
        } else {
            String::new()
        };
        let _ = writeln!(out, "            <S t=\"{start}\" d=\"{length}\"{r}/>");
    }
    out.push_str("          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n");
}

/// The MPD; None until the first Representation has a complete segment. One AdaptationSet per
/// media type, as MediaPackage writes (players refuse a Representation whose codecs joins video
/// and audio): video Representations per rendition, and the audio of the first rendition.
pub fn render_mpd(representations: &[Representation], o: &MpdOptions) -> Option<String> {
    let latest = representations.first()?.segments.iter().rev().find(|s| s.complete)?.run;
    let available_from = latest.epoch?;
    let count = (f64::from(o.window_seconds) / o.nominal_segment).ceil().max(1.0) as usize;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" \
         availabilityStartTime=\"{}\" publishTime=\"{}\" minimumUpdatePeriod=\"{}\" timeShiftBufferDepth=\"{}\" \
         suggestedPresentationDelay=\"{}\" minBufferTime=\"{}\">",
        date_time(available_from),
        date_time(o.now),
        duration(o.timing.min_update_period),
        duration(f64::from(o.window_seconds)),
        duration(o.timing.presentation_delay),
        duration(o.timing.min_buffer_time),
    );
    let _ = writeln!(out, "  <Period id=\"{}\" start=\"PT0S\">", latest.run_id);
    out.push_str(
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n",
    );
    let init = Resource::Init(latest.run_id).uri(o.segment_name);
    let media = format!("{}_$Number$.mp4", o.segment_name);
    // The audio: (rendition, codecs, track timescale, segments) of the first rendition with audio.
    let mut audio = None;
    for r in representations {
        let segments: Vec<&Segment> = (r.segments.iter())
            .filter(|s| s.complete && s.run.run_id == latest.run_id)
            .collect();
        let segments = &segments[segments.len().saturating_sub(count)..];
        let Some(first) = segments.first() else { continue };
        let v = r.rendition;
        let (video_codecs, audio_codecs) = split_codecs(r.codecs);
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" bandwidth=\"{}\" codecs=\"{video_codecs}\" width=\"{}\" height=\"{}\" frameRate=\"{}/{}\">",
            v.name, v.video_bitrate, v.width, v.height, v.framerate_numerator, v.framerate_denominator
        );
        let times: Vec<(u64, u64)> = segments.iter().map(|s| (s.start(), s.duration())).collect();
        let folder = format!("{}/{}/video", o.media_folder, v.name);
        segment_template(
            &mut out,
            latest.timescale,
            &folder,
            &init,
            &media,
            first.sequence,
            &times,
        );
        let audio_times: Option<Vec<(u64, u64)>> = segments.iter().map(|s| s.audio()).collect();
        if audio.is_none()
            && let (Some(track), Some(times), Some(codecs)) = (latest.audio, audio_times, audio_codecs)
        {
            audio = Some((v, codecs, track.timescale, first.sequence, times));
        }
    }
    out.push_str("    </AdaptationSet>\n");
    if let Some((v, codecs, timescale, first, times)) = audio {
        out.push_str(
            "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"und\" segmentAlignment=\"true\" startWithSAP=\"1\">\n",
        );
        let _ = writeln!(
            out,
            "      <Representation id=\"audio\" bandwidth=\"{}\" codecs=\"{codecs}\" audioSamplingRate=\"{timescale}\">\n        \
             <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>",
            v.audio_bitrate
        );
        let folder = format!("{}/{}/audio", o.media_folder, v.name);
        segment_template(&mut out, timescale, &folder, &init, &media, first, &times);
        out.push_str("    </AdaptationSet>\n");
    }
    out.push_str("  </Period>\n");
    let _ = writeln!(
        out,
        "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"{}\"/>\n</MPD>",
        date_time(o.now)
    );
    Some(out)
}

/// `S` elements: (t, d, r) with runs of equal, contiguous durations folded into `r`.
fn timeline(segments: &[(u64, u64)]) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> = Vec::new();
    for &(start, length) in segments {
        match out.last_mut() {
            Some((t, d, r)) if *d == length && *t + *d * (*r + 1) == start => *r += 1,
            _ => out.push((start, length, 0)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::cmaf::index::tests::rendition;
    use quick_xml::events::Event;

    fn ladder_rendition() -> LadderRendition {
        LadderRendition {
            name: "720p".into(),
            width: 1280,
            height: 720,
            video_bitrate: 3_000_000,
            audio_bitrate: 128_000,
            framerate_numerator: 30,
            framerate_denominator: 1,
            codecs: "avc1.42c01f,mp4a.40.2".into(),
        }
    }

    /// (element name, attributes) of every start or empty element.
    fn elements(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let attributes = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            let value = String::from_utf8(a.value.to_vec()).unwrap();
                            (String::from_utf8(a.key.as_ref().to_vec()).unwrap(), value)
                        })
                        .collect();
                    out.push((String::from_utf8(e.name().as_ref().to_vec()).unwrap(), attributes));
                }
                Event::Eof => return out,
                _ => {}
            }
        }
    }

    fn attribute<'a>(element: &'a (String, Vec<(String, String)>), name: &str) -> &'a str {
        element
            .1
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn a_dynamic_mpd_with_a_segment_timeline_parses_back() {
        // 27 parts of 10 frames: segments 0 and 1 of 4 s complete, segment 2 in progress.
        let mut media = rendition(27);
        media.runs[0].audio = Some(crate::media::cmaf::index::Track {
            id: 2,
            timescale: 48000,
        });
        let v = ladder_rendition();
        let representations = [Representation {
            rendition: &v,
            codecs: "avc1.42c01f,mp4a.40.2",
            segments: media.segments(2),
        }];
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1010);
        let options = MpdOptions {
            window_seconds: 60,
            nominal_segment: 4.0,
            timing: PlayerTiming::default(),
            now,
            media_folder: "dash",
            segment_name: "segment",
        };
        let xml = render_mpd(&representations, &options).unwrap();
        let elements = elements(&xml);
        let names: Vec<&str> = elements.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "MPD",
                "Period",
                "AdaptationSet",
                "Representation",
                "SegmentTemplate",
                "SegmentTimeline",
                "S",
                "AdaptationSet",
                "Representation",
                "AudioChannelConfiguration",
                "SegmentTemplate",
                "SegmentTimeline",
                "S",
                "UTCTiming"
            ]
        );
        let mpd = &elements[0];
        assert_eq!(attribute(mpd, "type"), "dynamic");
        assert_eq!(attribute(mpd, "profiles"), "urn:mpeg:dash:profile:isoff-live:2011");
        assert_eq!(attribute(mpd, "availabilityStartTime"), "1970-01-01T00:16:40.000Z");
        assert_eq!(attribute(mpd, "publishTime"), "1970-01-01T00:16:50.000Z");
        assert_eq!(attribute(mpd, "timeShiftBufferDepth"), "PT60.000S");
        assert_eq!(attribute(mpd, "minimumUpdatePeriod"), "PT2.000S");
        assert_eq!(attribute(mpd, "minBufferTime"), "PT5.000S");
        assert_eq!(attribute(mpd, "suggestedPresentationDelay"), "PT10.000S");
        let template = &elements[4];
        assert_eq!(attribute(template, "timescale"), "15360");
        assert_eq!(
            attribute(template, "initialization"),
            "dash/720p/video/segment_init_0.mp4"
        );
        assert_eq!(attribute(template, "media"), "dash/720p/video/segment_$Number$.mp4");
        assert_eq!(attribute(template, "startNumber"), "0");
        // Two 4 s segments (61440 ticks) from 0: one S repeated once.
        let s = &elements[6];
        assert_eq!(
            (attribute(s, "t"), attribute(s, "d"), attribute(s, "r")),
            ("0", "61440", "1")
        );
        // Video and audio in their own AdaptationSets, each Representation one codec.
        assert_eq!(attribute(&elements[2], "contentType"), "video");
        assert_eq!(attribute(&elements[3], "bandwidth"), "3000000");
        assert_eq!(attribute(&elements[3], "codecs"), "avc1.42c01f");
        assert_eq!(attribute(&elements[7], "contentType"), "audio");
        assert_eq!(attribute(&elements[8], "codecs"), "mp4a.40.2");
        assert_eq!(attribute(&elements[8], "bandwidth"), "128000");
        let audio = &elements[10];
        assert_eq!(attribute(audio, "timescale"), "48000");
        assert_eq!(attribute(audio, "initialization"), "dash/720p/audio/segment_init_0.mp4");
        assert_eq!(attribute(audio, "media"), "dash/720p/audio/segment_$Number$.mp4");
        assert_eq!(attribute(audio, "startNumber"), "0");
        let s = &elements[12];
        assert_eq!(
            (attribute(s, "t"), attribute(s, "d"), attribute(s, "r")),
            ("0", "192000", "1")
        );
        assert_eq!(attribute(&elements[13], "schemeIdUri"), "urn:mpeg:dash:utc:direct:2014");
    }

    #[test]
    fn nothing_to_describe_before_the_first_complete_segment() {
        let media = rendition(5);
        let v = ladder_rendition();
        let representations = [Representation {
            rendition: &v,
            codecs: "",
            segments: media.segments(2),
        }];
        let options = MpdOptions {
            window_seconds: 60,
            nominal_segment: 4.0,
            timing: PlayerTiming::default(),
            now: SystemTime::now(),
            media_folder: "dash",
            segment_name: "segment",
        };
        assert!(render_mpd(&representations, &options).is_none());
    }
}
