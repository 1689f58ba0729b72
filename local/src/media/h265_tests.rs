//! H.265 settings → x265 options, and the codecs string checked against what x265 writes.

use serde_json::json;

use super::*;

#[test]
fn medialive_settings_map_to_x265_options() {
    let qvbr = H265::from_settings(&json!({"rateControlMode": "QVBR", "qvbrQualityLevel": 8,
        "maxBitrate": 1_500_000, "framerateNumerator": 30, "framerateDenominator": 1}));
    assert_eq!(
        qvbr.rate,
        RateControl::Qvbr {
            quality: 8,
            max_bitrate: 1_500_000
        }
    );
    assert_eq!(qvbr.peak_bitrate(), 1_500_000);
    assert_eq!(
        qvbr.x265_args(1, 60),
        "-c:v:1 libx265 -forced-idr:v:1 1 -crf:v:1 22 -maxrate:v:1 1500000 -bufsize:v:1 3000000 -g:v:1 60 \
         -profile:v:1 main -tag:v:1 hvc1 -x265-params:v:1 log-level=error:scenecut=0:open-gop=0:high-tier=0"
    );
    // The configuration of hashicorp/terraform-provider-aws's h265Settings acceptance test.
    let terraform = H265::from_settings(&json!({"bitrate": 5_400_000, "bufSize": 20_000_000,
        "framerateNumerator": 50, "framerateDenominator": 1, "profile": "MAIN_10BIT", "tier": "HIGH",
        "level": "H265_LEVEL_AUTO", "rateControlMode": "CBR", "slices": 2}));
    assert_eq!(
        (terraform.profile, terraform.level, terraform.high_tier),
        (Profile::Main10, None, true)
    );
    assert_eq!(terraform.pix_fmt(), "yuv420p10le");
    let args = terraform.x265_args(0, 96);
    assert!(
        args.contains("-b:v:0 5400000 -maxrate:v:0 5400000 -bufsize:v:0 20000000"),
        "{args}"
    );
    assert!(
        args.contains("-profile:v:0 main10") && args.ends_with("high-tier=1"),
        "{args}"
    );
    let leveled = H265::from_settings(&json!({"level": "H265_LEVEL_4_1", "bitrate": 1_000_000}));
    assert_eq!(leveled.level, Some(123));
    assert!(leveled.x265_args(0, 30).ends_with(":level-idc=4.1"));
    assert_eq!(H265::from_settings(&json!({"level": "H265_LEVEL_3"})).level, Some(90));
}

#[test]
fn codecs_strings_follow_profile_tier_and_level() {
    let of = |settings: serde_json::Value| H265::from_settings(&settings);
    let main = of(json!({"bitrate": 300_000}));
    assert_eq!(main.codecs(320, 180, 30.0), "hvc1.1.6.L60.90");
    assert_eq!(main.codecs(640, 360, 30.0), "hvc1.1.6.L63.90");
    assert_eq!(main.codecs(960, 540, 30.0), "hvc1.1.6.L90.90");
    assert_eq!(main.codecs(1280, 720, 30.0), "hvc1.1.6.L93.90");
    assert_eq!(main.codecs(1920, 1080, 30.0), "hvc1.1.6.L120.90");
    assert_eq!(main.codecs(1920, 1080, 60.0), "hvc1.1.6.L123.90");
    let ten = of(json!({"profile": "MAIN_10BIT", "bitrate": 300_000}));
    assert_eq!(ten.codecs(320, 180, 30.0), "hvc1.2.4.L60.90");
    // Above level 4's main tier: the high tier of level 4 if allowed, else the first level whose
    // main tier holds both the bitrate and the (30 Mbit) buffer: 5.1.
    let fast = |tier: &str| of(json!({"bitrate": 15_000_000, "tier": tier})).codecs(320, 180, 30.0);
    assert_eq!(fast("HIGH"), "hvc1.1.6.H120.90");
    assert_eq!(fast("MAIN"), "hvc1.1.6.L153.90");
    // terraform-provider-aws's acceptance test: a 20 Mbit buffer is beyond level 4's main tier.
    let terraform = of(json!({"bitrate": 5_400_000, "bufSize": 20_000_000, "profile": "MAIN_10BIT", "tier": "HIGH"}));
    assert_eq!(terraform.codecs(1280, 720, 50.0), "hvc1.2.4.H120.90");
    let set = of(json!({"level": "H265_LEVEL_4_1", "bitrate": 1_000_000}));
    assert_eq!(set.codecs(320, 180, 30.0), "hvc1.1.6.L123.90");
}

/// The codecs string of the stream x265 wrote, read from its headers by ffmpeg's trace_headers.
fn written_codecs(path: &std::path::Path) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(path)
        .args("-map 0:v -c copy -bsf:v trace_headers -frames:v 1 -f null -".split(' '))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| -> u32 {
        let line = log
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("{name} not in the trace"));
        line.rsplit('=').next().unwrap().trim().parse().unwrap()
    };
    let compatibility = (0..32).fold(0u32, |acc, j| {
        acc | (field(&format!("general_profile_compatibility_flag[{j}]")) << j)
    });
    let constraint = (field("general_progressive_source_flag") << 7)
        | (field("general_interlaced_source_flag") << 6)
        | (field("general_non_packed_constraint_flag") << 5)
        | (field("general_frame_only_constraint_flag") << 4);
    let tier = if field("general_tier_flag") == 1 { 'H' } else { 'L' };
    format!(
        "hvc1.{}.{compatibility:x}.{tier}{}.{constraint:x}",
        field("general_profile_idc"),
        field("general_level_idc")
    )
}

/// What x265 writes for the options (skipped where ffmpeg is missing) is the codecs string
/// derived from the settings: profiles, automatic and set levels, the high tier.
#[test]
fn x265_writes_the_derived_codecs_string() {
    let cases = [
        ((320, 180), json!({"bitrate": 300_000})),
        ((640, 360), json!({"bitrate": 800_000})),
        (
            (320, 180),
            json!({"profile": "MAIN_10BIT", "rateControlMode": "QVBR", "qvbrQualityLevel": 6, "maxBitrate": 400_000}),
        ),
        ((320, 180), json!({"bitrate": 15_000_000, "tier": "HIGH"})),
        ((320, 180), json!({"bitrate": 15_000_000, "tier": "MAIN"})),
        ((320, 180), json!({"bitrate": 500_000, "level": "H265_LEVEL_4_1"})),
    ];
    for ((width, height), settings) in cases {
        let h265 = H265::from_settings(&settings);
        let path = std::env::temp_dir().join(format!("h265-{}.ts", uuid::Uuid::new_v4()));
        let args = format!(
            "-hide_banner -loglevel error -y -f lavfi -i testsrc2=size={width}x{height}:rate=30 -frames:v 3 \
             -preset ultrafast -tune zerolatency {} -pix_fmt {} -f mpegts",
            h265.x265_args(0, 30),
            h265.pix_fmt()
        );
        let Ok(status) = std::process::Command::new("ffmpeg")
            .args(args.split_whitespace())
            .arg(&path)
            .status()
        else {
            return eprintln!("ffmpeg is not installed: skipped");
        };
        assert!(status.success(), "{settings}");
        let written = written_codecs(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(written, h265.codecs(width, height, 30.0), "{settings}");
    }
}
