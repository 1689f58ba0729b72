//! A small ISO-BMFF reader for what ffmpeg's fragmented MP4 muxer writes: the top-level box
//! stream (ftyp, moov, then moof+mdat pairs) and, in moov and moof, only what packaging needs —
//! the video track's id and timescale, and each fragment's video start, duration and whether it
//! starts with a sync sample.

/// A complete top-level box at the start of a buffer: its type and total length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: [u8; 4],
    pub header_len: usize,
    pub len: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BoxError {
    #[error("box {0:?} is shorter than its header")]
    Truncated(String),
    #[error("{0}")]
    Invalid(String),
}

/// The header of the box at the start of `buf`; None while fewer bytes than its header arrived.
pub fn header(buf: &[u8]) -> Result<Option<BoxHeader>, BoxError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let size = u32::from_be_bytes(buf[0..4].try_into().unwrap()) as u64;
    let kind: [u8; 4] = buf[4..8].try_into().unwrap();
    let (len, header_len) = match size {
        1 => {
            if buf.len() < 16 {
                return Ok(None);
            }
            (u64::from_be_bytes(buf[8..16].try_into().unwrap()), 16)
        }
        // "Extends to the end of the file": not something a live stream can be framed on.
        0 => return Err(BoxError::Invalid("a box without a size in a live stream".into())),
        n => (n, 8),
    };
    if len < header_len as u64 {
        return Err(BoxError::Truncated(name(&kind)));
    }
    let len = usize::try_from(len).map_err(|_| BoxError::Invalid("box too large".into()))?;
    Ok(Some(BoxHeader { kind, header_len, len }))
}

fn name(kind: &[u8; 4]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

/// A child box: its type and body.
type Child<'a> = ([u8; 4], &'a [u8]);

/// The child boxes of a box body.
pub(super) fn children(body: &[u8]) -> Result<Vec<Child<'_>>, BoxError> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let h = header(rest)?.ok_or_else(|| BoxError::Truncated("child".into()))?;
        if h.len > rest.len() {
            return Err(BoxError::Truncated(name(&h.kind)));
        }
        out.push((h.kind, &rest[h.header_len..h.len]));
        rest = &rest[h.len..];
    }
    Ok(out)
}

pub(super) fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, BoxError> {
    Ok(children(body)?.into_iter().find(|(k, _)| k == kind).map(|(_, b)| b))
}

/// Big-endian reads with bounds checks.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, at: 0, what }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], BoxError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| BoxError::Truncated(self.what.into()))?;
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, BoxError> {
        Ok(u32::from_be_bytes(self.bytes(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, BoxError> {
        Ok(u64::from_be_bytes(self.bytes(8)?.try_into().unwrap()))
    }

    /// A full box's version and flags.
    fn version_flags(&mut self) -> Result<(u8, u32), BoxError> {
        let word = self.u32()?;
        Ok(((word >> 24) as u8, word & 0x00ff_ffff))
    }
}

/// What the init segment (ftyp+moov) says about the video track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoTrack {
    pub track_id: u32,
    pub timescale: u32,
    /// trex defaults, used when a fragment does not carry its own.
    pub default_duration: u32,
    pub default_flags: u32,
}

/// Finds the video track in a moov body.
pub fn video_track(moov: &[u8]) -> Result<VideoTrack, BoxError> {
    find_track(moov, b"vide")?.ok_or_else(|| BoxError::Invalid("the init segment has no video track".into()))
}

/// Finds the audio track in a moov body (its fragments read with [`video_fragment`] too).
pub fn audio_track(moov: &[u8]) -> Result<Option<VideoTrack>, BoxError> {
    find_track(moov, b"soun")
}

/// The first track with this handler type.
fn find_track(moov: &[u8], handler_type: &[u8; 4]) -> Result<Option<VideoTrack>, BoxError> {
    let mut defaults = std::collections::HashMap::new();
    if let Some(mvex) = child(moov, b"mvex")? {
        for (kind, trex) in children(mvex)? {
            if &kind == b"trex" {
                let mut r = Reader::new(trex, "trex");
                r.version_flags()?;
                let track_id = r.u32()?;
                let _description = r.u32()?;
                let duration = r.u32()?;
                let _size = r.u32()?;
                defaults.insert(track_id, (duration, r.u32()?));
            }
        }
    }
    for (kind, trak) in children(moov)? {
        if &kind != b"trak" {
            continue;
        }
        let tkhd = child(trak, b"tkhd")?.ok_or_else(|| BoxError::Invalid("trak without tkhd".into()))?;
        let mut r = Reader::new(tkhd, "tkhd");
        let (version, _) = r.version_flags()?;
        r.bytes(if version == 1 { 16 } else { 8 })?;
        let track_id = r.u32()?;
        let Some(mdia) = child(trak, b"mdia")? else { continue };
        let handler = child(mdia, b"hdlr")?.map(|h| Reader::new(h, "hdlr").bytes(12).map(|b| b[8..12].to_vec()));
        if handler.transpose()?.as_deref() != Some(handler_type) {
            continue;
        }
        let mdhd = child(mdia, b"mdhd")?.ok_or_else(|| BoxError::Invalid("mdia without mdhd".into()))?;
        let mut r = Reader::new(mdhd, "mdhd");
        let (version, _) = r.version_flags()?;
        r.bytes(if version == 1 { 16 } else { 8 })?;
        let timescale = r.u32()?;
        let (default_duration, default_flags) = defaults.get(&track_id).copied().unwrap_or((0, 0));
        return Ok(Some(VideoTrack {
            track_id,
            timescale,
            default_duration,
            default_flags,
        }));
    }
    Ok(None)
}

/// The video track's run of samples in one fragment (moof).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoFragment {
    /// Decode time of the first sample (tfdt), in the track's timescale.
    pub start: u64,
    /// Sum of the sample durations, in the track's timescale.
    pub duration: u64,
    pub samples: u32,
    /// The first sample is a sync sample: the fragment starts a GOP.
    pub independent: bool,
}

const NON_SYNC_SAMPLE: u32 = 0x0001_0000;

/// Reads the video traf of a moof body; None when the fragment has no video samples.
pub fn video_fragment(moof: &[u8], track: &VideoTrack) -> Result<Option<VideoFragment>, BoxError> {
    for (kind, traf) in children(moof)? {
        if &kind != b"traf" {
            continue;
        }
        let tfhd = child(traf, b"tfhd")?.ok_or_else(|| BoxError::Invalid("traf without tfhd".into()))?;
        let mut r = Reader::new(tfhd, "tfhd");
        let (_, flags) = r.version_flags()?;
        if r.u32()? != track.track_id {
            continue;
        }
        if flags & 0x01 != 0 {
            r.u64()?; // base data offset
        }
        if flags & 0x02 != 0 {
            r.u32()?; // sample description index
        }
        let default_duration = if flags & 0x08 != 0 {
            r.u32()?
        } else {
            track.default_duration
        };
        if flags & 0x10 != 0 {
            r.u32()?; // default sample size
        }
        let default_flags = if flags & 0x20 != 0 {
            r.u32()?
        } else {
            track.default_flags
        };
        let start = match child(traf, b"tfdt")? {
            Some(tfdt) => {
                let mut r = Reader::new(tfdt, "tfdt");
                let (version, _) = r.version_flags()?;
                if version == 1 { r.u64()? } else { u64::from(r.u32()?) }
            }
            None => return Err(BoxError::Invalid("video traf without tfdt".into())),
        };
        let mut fragment = VideoFragment {
            start,
            duration: 0,
            samples: 0,
            independent: false,
        };
        for (kind, trun) in children(traf)? {
            if &kind == b"trun" {
                read_trun(trun, default_duration, default_flags, &mut fragment)?;
            }
        }
        return Ok((fragment.samples > 0).then_some(fragment));
    }
    Ok(None)
}

fn read_trun(trun: &[u8], default_duration: u32, default_flags: u32, f: &mut VideoFragment) -> Result<(), BoxError> {
    let mut r = Reader::new(trun, "trun");
    let (_, flags) = r.version_flags()?;
    let count = r.u32()?;
    if flags & 0x01 != 0 {
        r.u32()?; // data offset
    }
    let first_flags = if flags & 0x04 != 0 { Some(r.u32()?) } else { None };
    for i in 0..count {
        let duration = if flags & 0x100 != 0 { r.u32()? } else { default_duration };
        if flags & 0x200 != 0 {
            r.u32()?; // size
        }
        let sample_flags = if flags & 0x400 != 0 { r.u32()? } else { default_flags };
        if flags & 0x800 != 0 {
            r.u32()?; // composition time offset
        }
        if f.samples == 0 && i == 0 {
            f.independent = first_flags.unwrap_or(sample_flags) & NON_SYNC_SAMPLE == 0;
        }
        f.duration += u64::from(duration);
    }
    f.samples += count;
    Ok(())
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Hand-built boxes shaped like ffmpeg's output (tfhd with defaults, trun with first sample
    //! flags and sizes).

    pub fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
        let mut b = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
        b.extend_from_slice(body);
        boxed(kind, &b)
    }

    fn words(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn trak(track_id: u32, handler: &[u8; 4], timescale: u32) -> Vec<u8> {
        let tkhd = full(b"tkhd", 0, 3, &words(&[0, 0, track_id, 0, 0]));
        let mut hdlr_body = words(&[0]);
        hdlr_body.extend_from_slice(handler);
        hdlr_body.extend_from_slice(&[0; 13]);
        let mdhd = full(b"mdhd", 0, 0, &words(&[0, 0, timescale, 0, 0]));
        let mdia = boxed(b"mdia", &[mdhd, full(b"hdlr", 0, 0, &hdlr_body)].concat());
        boxed(b"trak", &[tkhd, mdia].concat())
    }

    /// ftyp + moov: track 1 audio at 48 kHz, track 2 video at 15360.
    pub fn init() -> Vec<u8> {
        let ftyp = boxed(b"ftyp", b"iso5\0\0\x02\0iso6cmfc");
        let trex = |id| full(b"trex", 0, 0, &words(&[id, 1, 0, 0, 0]));
        let mvex = boxed(b"mvex", &[trex(1), trex(2)].concat());
        let mvhd = full(b"mvhd", 0, 0, &words(&[0; 25]));
        let moov = [mvhd, trak(1, b"soun", 48000), trak(2, b"vide", 15360), mvex].concat();
        [ftyp, boxed(b"moov", &moov)].concat()
    }

    /// moof + mdat: `frames` video samples of 512 ticks from `start`, the first a sync sample
    /// when `key`, and an audio traf before it.
    pub fn fragment(sequence: u32, start: u64, frames: u32, key: bool) -> Vec<u8> {
        let mfhd = full(b"mfhd", 0, 0, &words(&[sequence]));
        let audio = {
            let tfhd = full(b"tfhd", 0, 0x2003a, &words(&[1, 1, 1024, 100, 0x0200_0000]));
            let tfdt = full(b"tfdt", 1, 0, &start.to_be_bytes());
            let trun = full(b"trun", 0, 0x201, &words(&[2, 0, 100, 100]));
            boxed(b"traf", &[tfhd, tfdt, trun].concat())
        };
        let video = {
            let tfhd = full(b"tfhd", 0, 0x2003a, &words(&[2, 1, 512, 1000, 0x0101_0000]));
            let tfdt = full(b"tfdt", 1, 0, &start.to_be_bytes());
            let first = if key { 0x0200_0000 } else { 0x0101_0000 };
            let mut run = vec![frames, 0, first];
            run.extend(std::iter::repeat_n(1000, frames as usize));
            let trun = full(b"trun", 0, 0x205, &words(&run));
            boxed(b"traf", &[tfhd, tfdt, trun].concat())
        };
        let moof = boxed(b"moof", &[mfhd, audio, video].concat());
        [moof, boxed(b"mdat", &vec![0; frames as usize * 1000 + 200])].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top_level(mut buf: &[u8]) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        while let Some(h) = header(buf).unwrap() {
            out.push((name(&h.kind), h.len));
            buf = &buf[h.len..];
        }
        out
    }

    #[test]
    fn headers_wait_for_enough_bytes_and_read_large_sizes() {
        assert_eq!(header(&[0, 0, 0]).unwrap(), None);
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        assert_eq!(header(&large).unwrap(), None);
        large.extend_from_slice(&20u64.to_be_bytes());
        let h = header(&large).unwrap().unwrap();
        assert_eq!((h.header_len, h.len, &h.kind), (16, 20, b"mdat"));
        assert!(header(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']).is_err());
        assert!(header(&[0, 0, 0, 0, b'f', b'r', b'e', b'e']).is_err());
    }

    #[test]
    fn reads_the_video_track_and_fragments_of_hand_built_boxes() {
        let init = fixture::init();
        assert_eq!(
            top_level(&init).iter().map(|b| b.0.as_str()).collect::<Vec<_>>(),
            ["ftyp", "moov"]
        );
        let moov = &init[top_level(&init)[0].1 + 8..];
        let track = video_track(moov).unwrap();
        assert_eq!((track.track_id, track.timescale), (2, 15360));
        let frag = fixture::fragment(1, 5120, 10, true);
        let moof = &frag[8..top_level(&frag)[0].1];
        let video = video_fragment(moof, &track).unwrap().unwrap();
        assert_eq!(
            video,
            VideoFragment {
                start: 5120,
                duration: 5120,
                samples: 10,
                independent: true
            }
        );
        let frag = fixture::fragment(2, 10240, 10, false);
        let moof = &frag[8..top_level(&frag)[0].1];
        assert!(!video_fragment(moof, &track).unwrap().unwrap().independent);
    }

    #[test]
    fn truncated_children_are_errors_not_panics() {
        let frag = fixture::fragment(1, 0, 3, true);
        let moof_len = top_level(&frag)[0].1;
        let init = fixture::init();
        let track = video_track(&init[top_level(&init)[0].1 + 8..]).unwrap();
        for cut in [9, 40, moof_len - 3] {
            assert!(video_fragment(&frag[8..cut], &track).is_err(), "cut at {cut}");
        }
    }

    /// A real fragment from the ffmpeg the server runs (skipped where ffmpeg is missing): the
    /// flags ffmpeg sets are the ones the transcoder asks for.
    #[test]
    fn reads_ffmpeg_fragments() {
        let path = std::env::temp_dir().join(format!("cmaf-boxes-{}.mp4", uuid::Uuid::new_v4()));
        let args = "-hide_banner -loglevel error -f lavfi -i testsrc2=size=64x64:rate=30 -f lavfi \
                    -i sine=sample_rate=48000 -t 2.5 -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p \
                    -c:a aac -ac 2 -f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof+cmaf \
                    -frag_duration 332333";
        let status = std::process::Command::new("ffmpeg")
            .args(args.split_whitespace())
            .arg(&path)
            .status();
        let Ok(status) = status else {
            return eprintln!("ffmpeg is not installed: skipped");
        };
        assert!(status.success());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let boxes = top_level(&bytes);
        assert_eq!(boxes[0].0, "ftyp");
        assert_eq!(boxes[1].0, "moov");
        let moov_at = boxes[0].1;
        let track = video_track(&bytes[moov_at + 8..moov_at + boxes[1].1]).unwrap();
        let (mut at, mut fragments) = (0, Vec::new());
        for (kind, len) in &boxes {
            if kind == "moof" {
                fragments.push(video_fragment(&bytes[at + 8..at + len], &track).unwrap().unwrap());
            }
            at += len;
        }
        let frame = u64::from(track.timescale) / 30;
        // 30-frame GOPs cut into parts of 10 frames: 3 parts per GOP, the first independent.
        let frames: Vec<u64> = fragments.iter().map(|f| f.duration / frame).collect();
        assert_eq!(frames[..6], [10, 10, 10, 10, 10, 10], "{fragments:?}");
        let independent: Vec<bool> = fragments.iter().map(|f| f.independent).collect();
        assert_eq!(independent[..6], [true, false, false, true, false, false]);
        for pair in fragments.windows(2) {
            assert_eq!(pair[0].start + pair[0].duration, pair[1].start);
        }
    }
}
