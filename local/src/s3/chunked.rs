//! `aws-chunked` payload decoding. s3s decodes it only while verifying a
//! signature, and we do not verify signatures (see `super`), so we unwrap the
//! body ourselves. Chunk signatures are skipped, not checked.

/// A decoded body and its trailers (`x-amz-checksum-*`), names lower-cased.
pub(super) struct Decoded {
    pub data: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

/// Decodes `<hex size>[;chunk-signature=…]\r\n<data>\r\n` chunks up to the
/// zero-size one, then `name:value` trailer lines.
pub(super) fn decode(mut rest: &[u8]) -> Result<Decoded, &'static str> {
    let mut data = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("missing chunk header")?;
        let header = std::str::from_utf8(&rest[..end]).map_err(|_| "bad chunk header")?;
        let size_hex = header.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| "bad chunk size")?;
        rest = &rest[end + 2..];
        if size == 0 {
            break;
        }
        if rest.len() < size + 2 || &rest[size..size + 2] != b"\r\n" {
            return Err("truncated chunk");
        }
        data.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    let mut trailers = Vec::new();
    for line in rest.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let line = std::str::from_utf8(line).map_err(|_| "bad trailer")?;
        let (name, value) = line.split_once(':').ok_or("bad trailer")?;
        trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Decoded { data, trailers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_with_trailer() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let d = decode(body).unwrap();
        assert_eq!(d.data, b"hello world");
        assert_eq!(
            d.trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
        );
    }

    #[test]
    fn signed_chunks_without_trailer() {
        let sig = "0".repeat(64);
        let body = format!("3;chunk-signature={sig}\r\nabc\r\n0;chunk-signature={sig}\r\n\r\n");
        let d = decode(body.as_bytes()).unwrap();
        assert_eq!(d.data, b"abc");
        assert!(d.trailers.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(decode(b"5\r\nhel").is_err());
        assert!(decode(b"zz\r\n").is_err());
        assert!(decode(b"").is_err());
    }
}
