//! FLV muxing of an RTMP publish. An RTMP audio (8), video (9) or data (18) message payload is
//! byte for byte an FLV tag body, so writing FLV is: the file header, then per message an 11-byte
//! tag header, the payload and the previous-tag-size trailer.

use bytes::Bytes;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    Audio = 8,
    Video = 9,
    Script = 18,
}

/// One RTMP media message, ready to be written as an FLV tag.
#[derive(Clone, Debug)]
pub struct Tag {
    pub kind: TagKind,
    /// Milliseconds.
    pub timestamp: u32,
    pub data: Bytes,
}

/// The AMF0 string `@setDataFrame` that RTMP publishers put before `onMetaData`; FLV files
/// carry the metadata without it.
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";
const ON_META_DATA: &[u8] = b"\x02\x00\x0aonMetaData";

impl Tag {
    pub fn new(kind: TagKind, timestamp: u32, data: Bytes) -> Self {
        let data = match kind {
            TagKind::Script if data.starts_with(SET_DATA_FRAME) => data.slice(SET_DATA_FRAME.len()..),
            _ => data,
        };
        Tag { kind, timestamp, data }
    }

    /// A video key frame (frame type 1; bits 4-6 in both legacy and enhanced RTMP).
    pub fn is_keyframe(&self) -> bool {
        self.kind == TagKind::Video && self.data.first().is_some_and(|b| (b >> 4) & 0x07 == 1)
    }

    /// Decoder configuration (AVC sequence header, enhanced-RTMP SequenceStart, AAC
    /// AudioSpecificConfig): a restarted ffmpeg needs it again before any frame.
    pub fn is_sequence_header(&self) -> bool {
        let (Some(&b0), b1) = (self.data.first(), self.data.get(1).copied()) else {
            return false;
        };
        match self.kind {
            TagKind::Video if b0 & 0x80 != 0 => b0 & 0x0f == 0,
            TagKind::Video => b0 & 0x0f == 7 && b1 == Some(0),
            TagKind::Audio => b0 >> 4 == 10 && b1 == Some(0),
            TagKind::Script => false,
        }
    }

    pub fn is_metadata(&self) -> bool {
        self.kind == TagKind::Script && self.data.starts_with(ON_META_DATA)
    }
}

/// The 9-byte FLV header followed by PreviousTagSize0.
pub fn header(has_audio: bool, has_video: bool) -> [u8; 13] {
    let flags = (u8::from(has_audio) << 2) | u8::from(has_video);
    [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
}

/// Appends one tag (header, body, previous tag size) with the given timestamp.
pub fn write_tag(out: &mut Vec<u8>, kind: TagKind, timestamp: u32, data: &[u8]) {
    // FLV sizes are 24-bit; RTMP message lengths are too, so this only guards malformed input.
    let size = data.len().min(0x00ff_ffff) as u32;
    let ts = timestamp.to_be_bytes();
    out.push(kind as u8);
    out.extend_from_slice(&size.to_be_bytes()[1..]);
    // 24 low bits, then the extended (most significant) byte.
    out.extend_from_slice(&[ts[1], ts[2], ts[3], ts[0]]);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&data[..size as usize]);
    out.extend_from_slice(&(size + 11).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_flags() {
        assert_eq!(header(true, true), *b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00");
        assert_eq!(header(false, true)[4], 1);
        assert_eq!(header(true, false)[4], 4);
    }

    #[test]
    fn tag_layout_and_extended_timestamp() {
        let mut out = Vec::new();
        write_tag(&mut out, TagKind::Video, 0x1234_5678, &[0x17, 0x01, 0xaa]);
        assert_eq!(
            out,
            [
                9, 0, 0, 3, // type, size
                0x34, 0x56, 0x78, 0x12, // timestamp low 24 bits, then high byte
                0, 0, 0, // stream id
                0x17, 0x01, 0xaa, // body
                0, 0, 0, 14 // previous tag size = 11 + 3
            ]
        );
    }

    #[test]
    fn classifies_frames_and_headers() {
        let v = |b: &'static [u8]| Tag::new(TagKind::Video, 0, Bytes::from_static(b));
        let a = |b: &'static [u8]| Tag::new(TagKind::Audio, 0, Bytes::from_static(b));
        assert!(v(&[0x17, 0x00]).is_keyframe() && v(&[0x17, 0x00]).is_sequence_header());
        assert!(v(&[0x17, 0x01]).is_keyframe() && !v(&[0x17, 0x01]).is_sequence_header());
        assert!(!v(&[0x27, 0x01]).is_keyframe());
        // Enhanced RTMP: IsExHeader | key frame | SequenceStart.
        assert!(v(&[0x90, b'h', b'v', b'c', b'1']).is_sequence_header());
        assert!(a(&[0xaf, 0x00]).is_sequence_header() && !a(&[0xaf, 0x01]).is_sequence_header());
        assert!(!a(&[0x2f, 0x00]).is_sequence_header());
        assert!(!v(&[]).is_keyframe() && !v(&[]).is_sequence_header());
    }

    #[test]
    fn strips_set_data_frame() {
        let mut body = SET_DATA_FRAME.to_vec();
        body.extend_from_slice(ON_META_DATA);
        body.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 9]);
        let tag = Tag::new(TagKind::Script, 0, Bytes::from(body));
        assert!(tag.data.starts_with(ON_META_DATA) && tag.is_metadata());
        let plain = Tag::new(TagKind::Script, 0, Bytes::from_static(b"\x02\x00\x0aonCuePoint"));
        assert!(!plain.is_metadata());
    }
}
