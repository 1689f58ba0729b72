//! One track out of ffmpeg's muxed CMAF (video and audio in one file): the init segment with only
//! that track, and fragments whose moof has only that track's traf and whose mdat has only its
//! samples. DASH serves video and audio as separate AdaptationSets from these (CMAF tracks), while
//! HLS keeps the muxed parts.
//!
//! Fragments use `default-base-is-moof` (ffmpeg's `default_base_moof`): a trun's data offset
//! counts from its moof, so moving a traf only needs its offsets rewritten.

use super::boxes::{BoxError, child, children, header};

fn boxed(kind: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len() + 8).unwrap_or(u32::MAX).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn u32_at(buf: &[u8], at: usize, what: &str) -> Result<u32, BoxError> {
    let bytes = buf.get(at..at + 4).ok_or_else(|| BoxError::Truncated(what.into()))?;
    Ok(u32::from_be_bytes(bytes.try_into().unwrap()))
}

/// Where `inner` (a sub-slice) starts in `outer`.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}

/// The track id in a tkhd or tfhd body (after version/flags; tkhd v0/v1 has times before it).
fn track_id(kind: &[u8; 4], body: &[u8]) -> Result<u32, BoxError> {
    let at = match kind {
        b"tkhd" if body.first() == Some(&1) => 20,
        b"tkhd" => 12,
        _ => 4,
    };
    u32_at(body, at, "track id")
}

/// The init segment (ftyp + moov) with only track `track`.
pub fn init(init: &[u8], track: u32) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    let mut rest = init;
    while let Some(h) = header(rest)? {
        let b = rest.get(..h.len).ok_or_else(|| BoxError::Truncated("init".into()))?;
        let body = &b[h.header_len..];
        if &h.kind == b"moov" {
            let mut moov = Vec::new();
            for (kind, child_body) in children(body)? {
                match &kind {
                    b"trak" => {
                        let tkhd = child(child_body, b"tkhd")?.ok_or_else(|| BoxError::Invalid("no tkhd".into()))?;
                        if track_id(b"tkhd", tkhd)? == track {
                            moov.extend(boxed(&kind, child_body));
                        }
                    }
                    b"mvex" => {
                        let mut mvex = Vec::new();
                        for (kind, body) in children(child_body)? {
                            if &kind != b"trex" || track_id(b"trex", body)? == track {
                                mvex.extend(boxed(&kind, body));
                            }
                        }
                        moov.extend(boxed(b"mvex", &mvex));
                    }
                    _ => moov.extend(boxed(&kind, child_body)),
                }
            }
            out.extend(boxed(b"moov", &moov));
        } else {
            out.extend_from_slice(b);
        }
        rest = &rest[h.len..];
    }
    Ok(out)
}

/// The sizes of a trun's samples and where its data offset field is in the trun body.
struct Trun {
    offset_field: Option<usize>,
    data_offset: i64,
    size: usize,
}

fn read_trun(trun: &[u8], default_size: Option<u32>) -> Result<Trun, BoxError> {
    let word = u32_at(trun, 0, "trun")?;
    let (flags, count) = (word & 0x00ff_ffff, u32_at(trun, 4, "trun")?);
    let mut at = 8;
    let (offset_field, data_offset) = if flags & 0x01 != 0 {
        at += 4;
        (Some(8), i64::from(u32_at(trun, 8, "trun")? as i32))
    } else {
        (None, 0)
    };
    if flags & 0x04 != 0 {
        at += 4;
    }
    let per_sample = [0x100, 0x200, 0x400, 0x800].iter().filter(|f| flags & **f != 0).count() * 4;
    let mut size = 0usize;
    for i in 0..count as usize {
        let sample_size = if flags & 0x200 != 0 {
            let before = [0x100].iter().filter(|f| flags & **f != 0).count() * 4;
            u32_at(trun, at + i * per_sample + before, "trun sample")?
        } else {
            default_size.ok_or_else(|| BoxError::Invalid("trun without sample sizes".into()))?
        };
        size += sample_size as usize;
    }
    Ok(Trun {
        offset_field,
        data_offset,
        size,
    })
}

/// One part or segment (styp?, then moof+mdat pairs) with only track `track`'s samples.
pub fn fragments(media: &[u8], track: u32) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(h) = header(&media[at..])? {
        let b = media
            .get(at..at + h.len)
            .ok_or_else(|| BoxError::Truncated("fragment".into()))?;
        match &h.kind {
            b"styp" => out.extend_from_slice(b),
            b"moof" => out.extend(moof(media, at, h.header_len, h.len, track)?),
            _ => {} // mdat (rewritten with its moof), sidx, prft, emsg
        }
        at += h.len;
    }
    Ok(out)
}

/// The rewritten moof at `at` of `media` and its new mdat.
fn moof(media: &[u8], at: usize, header_len: usize, len: usize, track: u32) -> Result<Vec<u8>, BoxError> {
    let body = &media[at + header_len..at + len];
    let mut moof_body = Vec::new();
    // (where the data offset field is in moof_body, old absolute data start, size)
    let mut runs: Vec<(Option<usize>, usize, usize)> = Vec::new();
    for (kind, child_body) in children(body)? {
        if &kind != b"traf" {
            moof_body.extend(boxed(&kind, child_body));
            continue;
        }
        let tfhd = child(child_body, b"tfhd")?.ok_or_else(|| BoxError::Invalid("traf without tfhd".into()))?;
        if track_id(b"tfhd", tfhd)? != track {
            continue;
        }
        let tfhd_flags = u32_at(tfhd, 0, "tfhd")? & 0x00ff_ffff;
        if tfhd_flags & 0x01 != 0 {
            return Err(BoxError::Invalid("explicit base data offsets are not supported".into()));
        }
        let default_size = if tfhd_flags & 0x10 != 0 {
            let skip = 8 + 4 * [0x02, 0x08].iter().filter(|f| tfhd_flags & **f != 0).count();
            Some(u32_at(tfhd, skip, "tfhd")?)
        } else {
            None
        };
        // The traf is copied as is: its children keep their offsets within it.
        let traf_at = moof_body.len() + 8;
        let mut next_data = None;
        for (kind, trun) in children(child_body)? {
            if &kind == b"trun" {
                let t = read_trun(trun, default_size)?;
                let start = match (t.offset_field, next_data) {
                    (Some(_), _) => usize::try_from(at as i64 + t.data_offset)
                        .map_err(|_| BoxError::Invalid("negative data offset".into()))?,
                    (None, Some(next)) => next,
                    (None, None) => at + len + 8, // the first byte of the following mdat body
                };
                next_data = Some(start + t.size);
                let field = t.offset_field.map(|f| traf_at + offset_in(child_body, trun) + f);
                runs.push((field, start, t.size));
            }
        }
        moof_body.extend(boxed(b"traf", child_body));
    }
    let moof_len = moof_body.len() + 8;
    let mut mdat = Vec::new();
    for (field, start, size) in runs {
        let data = media
            .get(start..start + size)
            .ok_or_else(|| BoxError::Truncated("mdat".into()))?;
        if let Some(field) = field {
            let offset = u32::try_from(moof_len + 8 + mdat.len()).unwrap_or(u32::MAX);
            moof_body[field..field + 4].copy_from_slice(&offset.to_be_bytes());
        }
        mdat.extend_from_slice(data);
    }
    let mut out = boxed(b"moof", &moof_body);
    out.extend(boxed(b"mdat", &mdat));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::cmaf::boxes::{audio_track, video_track};

    fn ffmpeg(args: &str, out: &std::path::Path) -> Option<()> {
        let status = std::process::Command::new("ffmpeg")
            .args(args.split_whitespace())
            .arg(out)
            .status()
            .ok()?;
        assert!(status.success());
        Some(())
    }

    /// ffmpeg's muxed fragments split per track decode on their own (skipped without ffmpeg).
    #[test]
    fn split_tracks_of_ffmpeg_fragments_decode() {
        let dir = std::env::temp_dir().join(format!("cmaf-split-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let muxed = dir.join("muxed.mp4");
        let args = "-hide_banner -loglevel error -f lavfi -i testsrc2=size=64x64:rate=30 -f lavfi \
                    -i sine=sample_rate=48000 -t 2 -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p \
                    -c:a aac -ac 2 -f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof+cmaf \
                    -frag_duration 332333";
        if ffmpeg(args, &muxed).is_none() {
            return eprintln!("ffmpeg is not installed: skipped");
        }
        let bytes = std::fs::read(&muxed).unwrap();
        let mut boxes = Vec::new();
        let mut at = 0;
        while let Some(h) = header(&bytes[at..]).unwrap() {
            boxes.push((h.kind, at, h.len));
            at += h.len;
        }
        let init_len = boxes[0].2 + boxes[1].2;
        let moov = &bytes[boxes[1].1 + 8..init_len];
        let tracks = [
            (video_track(moov).unwrap().track_id, "video", 60),
            (audio_track(moov).unwrap().unwrap().track_id, "audio", 0),
        ];
        for (id, name, frames) in tracks {
            let mut file = init(&bytes[..init_len], id).unwrap();
            for (kind, at, len) in &boxes[2..] {
                if kind == b"moof" {
                    // A part: its moof and mdat.
                    file.extend(
                        fragments(
                            &bytes[*at..*at + len + header(&bytes[at + len..]).unwrap().unwrap().len],
                            id,
                        )
                        .unwrap(),
                    );
                }
            }
            let path = dir.join(format!("{name}.mp4"));
            std::fs::write(&path, &file).unwrap();
            let probe = std::process::Command::new("ffprobe")
                .args("-v error -count_frames -show_entries stream=codec_type,nb_read_frames -of csv=p=0".split(' '))
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&probe.stdout).trim().to_owned();
            assert!(
                probe.stderr.is_empty(),
                "{name}: {}",
                String::from_utf8_lossy(&probe.stderr)
            );
            let (kind, count) = text.split_once(',').unwrap_or_else(|| panic!("{text}"));
            assert_eq!(kind, name, "one track");
            let count: u64 = count.parse().unwrap();
            if frames > 0 {
                assert_eq!(count, frames, "{name}");
            } else {
                assert!(count >= 90, "2 s of AAC: {count} frames");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
