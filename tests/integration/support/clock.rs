//! A clock burnt into the picture: every frame a publisher sends carries the wall clock (ms) at
//! which it was generated, as 24 white/black blocks over a row of their complements, so what comes
//! out of the cloud (a recording, a clip) can be read back to the moments it holds.

use std::path::Path;

use tokio::process::{Child, Command};

/// The picture the clock is drawn on (the publisher's test pattern), and its blocks.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const BITS: u32 = 24;
const X0: u32 = 16;
const BLOCK: u32 = 50;
const ROWS: [u32; 2] = [8, 56];
const ROW_HEIGHT: u32 = 48;

/// The filter that stamps each frame with the wall clock as it is generated and draws its low
/// 24 bits (ms).
fn burn_filter() -> String {
    let mut parts = vec![
        "settb=1/1000".to_owned(),
        "setpts='floor(RTCTIME/1000)'".to_owned(),
        format!(
            "drawbox=x=0:y=0:w={WIDTH}:h={}:color=black:t=fill",
            ROWS[1] + ROW_HEIGHT + 8
        ),
    ];
    for i in 0..BITS {
        let bit = format!("mod(floor(floor(t*1000+0.5)/{}),2)", 1u64 << i);
        let x = X0 + i * BLOCK;
        let (h, w) = (ROW_HEIGHT, BLOCK);
        let (a, b) = (ROWS[0], ROWS[1]);
        parts.push(format!(
            "drawbox=x={x}:y={a}:w={w}:h={h}:color=white:t=fill:enable='{bit}'"
        ));
        parts.push(format!(
            "drawbox=x={x}:y={b}:w={w}:h={h}:color=white:t=fill:enable='1-{bit}'"
        ));
    }
    parts.extend(["settb=1/30".to_owned(), "setpts=N".to_owned()]);
    parts.join(",")
}

/// `ffmpeg` pushing a test pattern with the clock burnt in, and a tone, to `url` for `seconds`.
pub fn publish_with_clock(url: &str, seconds: u32) -> Child {
    super::cloud::publish_through(url, seconds, Some(&burn_filter()))
}

/// The clock (ms, modulo 2^24) in the first or the last frame of a media file, scaled back to the
/// publisher's picture; None when the blocks do not read as a code and its complement.
pub async fn clock_in(file: &Path, last: bool) -> Option<u64> {
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg.args(["-hide_banner", "-loglevel", "error"]);
    if last {
        ffmpeg.args(["-sseof", "-1"]);
    }
    let scale = format!("scale={WIDTH}:{HEIGHT},format=gray");
    ffmpeg.args(["-i", file.to_str().unwrap(), "-vf", &scale]);
    if !last {
        ffmpeg.args(["-frames:v", "1"]);
    }
    let out = ffmpeg.args(["-f", "rawvideo", "pipe:1"]).output().await.unwrap();
    let frame = (WIDTH * HEIGHT) as usize;
    if !out.status.success() || out.stdout.len() < frame {
        return None;
    }
    let picture = &out.stdout[out.stdout.len() / frame * frame - frame..][..frame];
    read_clock(picture)
}

/// The code the blocks of a gray `WIDTH`x`HEIGHT` picture hold.
fn read_clock(picture: &[u8]) -> Option<u64> {
    let lum = |x: u32, y: u32| {
        let mut sum = 0u32;
        for dy in 0..5 {
            for dx in 0..5 {
                sum += u32::from(picture[((y + dy) * WIDTH + x + dx) as usize]);
            }
        }
        sum / 25
    };
    let mut code = 0u64;
    for i in 0..BITS {
        let x = X0 + i * BLOCK + BLOCK / 2 - 2;
        let [a, b] = ROWS.map(|y| lum(x, y + ROW_HEIGHT / 2 - 2) > 128);
        if a == b {
            return None;
        }
        code |= u64::from(a) << i;
    }
    Some(code)
}

/// `later - earlier` in ms for two clock readings (modulo 2^24: 4.6 hours).
pub fn elapsed_ms(earlier: u64, later: u64) -> u64 {
    (later + (1 << BITS) - earlier) % (1 << BITS)
}

/// The wall clock now as the burnt-in clock reads it.
pub fn now_ms() -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    (ms % (1 << BITS)) as u64
}
