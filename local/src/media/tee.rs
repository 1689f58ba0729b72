//! ffmpeg's tee muxer: one encode of each rendition written by several muxers — the HLS ladder and
//! a v2 channel's CMAF outputs — where separate outputs would need an encoder each (an encoder's
//! packets go to one output only).
//!
//! A tee target is parsed twice (ffmpeg's `libavformat/tee.c`): the list is split on `|` with
//! `av_get_token`, then each slave's `[key=value:…]` with `av_opt_get_key_value`. So each value is
//! quoted for the second pass and the whole slave escaped for the first.

/// One slave: `format` with its `options`, writing `target`; `select` picks its streams (stream
/// specifiers, `,`-separated), all of them when `None`.
pub fn slave(format: &str, select: Option<&str>, options: &[(&str, String)], target: &str) -> String {
    let mut spec = format!("[f={format}");
    let select = select.map(|s| ("select", s.to_owned()));
    for (key, value) in select.iter().chain(options) {
        spec += &format!(":{key}={}", quoted(value));
    }
    spec += "]";
    spec += target;
    escaped(&spec)
}

/// The tee muxer's target: its slaves.
pub fn target(slaves: &[String]) -> String {
    slaves.join("|")
}

/// `'value'` for the slave option parser, a `'` in it written as `'\''`.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `\`, `'` and `|` escaped for the split of the slave list.
fn escaped(spec: &str) -> String {
    let mut out = String::with_capacity(spec.len() + 8);
    for c in spec.chars() {
        if matches!(c, '\\' | '\'' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `av_get_token` as ffmpeg has it: `\` escapes the next character, `'` toggles quoting,
    /// unquoted whitespace at either end is dropped, and the token ends at an unquoted `term`.
    fn av_get_token<'a>(s: &'a str, term: &[char]) -> (String, &'a str) {
        let s = s.trim_start();
        let (mut out, mut quoted, mut end) = (String::new(), false, 0);
        let mut chars = s.char_indices().peekable();
        let mut kept = 0;
        while let Some((i, c)) = chars.next() {
            end = i;
            if !quoted && term.contains(&c) {
                break;
            }
            end = i + c.len_utf8();
            match c {
                '\\' if !quoted => {
                    if let Some((j, n)) = chars.next() {
                        out.push(n);
                        end = j + n.len_utf8();
                        kept = out.len();
                    }
                }
                '\'' => quoted = !quoted,
                _ => {
                    out.push(c);
                    if quoted || !c.is_whitespace() {
                        kept = out.len();
                    }
                }
            }
        }
        out.truncate(kept);
        (out, &s[end..])
    }

    /// What ffmpeg reads from one slave: its options and target.
    fn parse(slave: &str) -> (Vec<(String, String)>, String) {
        let (spec, rest) = av_get_token(slave, &['|']);
        assert!(rest.is_empty(), "one slave: {rest}");
        let mut p = spec.strip_prefix('[').unwrap();
        let mut options = Vec::new();
        loop {
            let (key, r) = av_get_token(p, &['=']);
            let (value, r) = av_get_token(&r[1..], &[':', ']']);
            options.push((key, value));
            if let Some(target) = r.strip_prefix(']') {
                return (options, target.to_owned());
            }
            p = &r[1..];
        }
    }

    #[test]
    fn values_with_colons_spaces_and_quotes_reach_the_muxer_whole() {
        let map = "v:0,a:0,name:720p v:1,a:1,name:1080p".to_owned();
        let s = slave(
            "hls",
            None,
            &[
                ("var_stream_map", map.clone()),
                ("hls_segment_filename", "/d/it's/%v/%d.ts".into()),
            ],
            "/d/it's/%v/run-1.m3u8",
        );
        let (options, target) = parse(&s);
        assert_eq!(options[0], ("f".to_owned(), "hls".to_owned()));
        assert_eq!(options[1], ("var_stream_map".to_owned(), map));
        assert_eq!(options[2].1, "/d/it's/%v/%d.ts");
        assert_eq!(target, "/d/it's/%v/run-1.m3u8");
    }

    #[test]
    fn a_select_comes_first_and_slaves_are_split_on_the_bar() {
        let a = slave(
            "mp4",
            Some("v:1,a:1"),
            &[("frag_duration", "332333".into())],
            "tcp://127.0.0.1:4000",
        );
        assert_eq!(
            a,
            r"[f=mp4:select=\'v:1,a:1\':frag_duration=\'332333\']tcp://127.0.0.1:4000"
        );
        let both = target(&[a.clone(), slave("hls", None, &[], "/d/x|y.m3u8")]);
        let (first, rest) = av_get_token(&both, &['|']);
        assert_eq!(parse(&a).1, "tcp://127.0.0.1:4000");
        assert!(first.starts_with("[f=mp4:select='v:1,a:1'"), "{first}");
        assert_eq!(parse(&rest[1..]).1, "/d/x|y.m3u8");
    }
}
