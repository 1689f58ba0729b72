//! The transcoder's ffmpeg arguments and its exit handling.

use super::*;
use crate::media::{AudioRendition, VideoRendition};

fn job() -> TranscodeJob {
    let v = VideoRendition::at_30fps;
    TranscodeJob {
        channel_id: "ch".into(),
        package_channel_id: Some("pkg".into()),
        renditions: vec![v("1080p", 1920, 1080, 5_000_000), v("720p", 1280, 720, 3_000_000)],
        audio: AudioRendition {
            bitrate: 128_000,
            sample_rate: 48_000,
        },
        gop_seconds: 2.0,
        ..crate::media::e2e::job()
    }
}

fn value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing"));
    &args[i + 1]
}

#[test]
fn builds_the_ladder_command() {
    let mut job = job();
    job.renditions[0].codec = crate::media::codec::VideoCodec::from_settings(
        &serde_json::json!({"h264Settings": {"profile": "HIGH", "level": "H264_LEVEL_4"}}),
    );
    let run = Run { id: 4, start_seq: 17 };
    let args = ffmpeg_args(&FfmpegRun {
        job: &job,
        channel_dir: Path::new("/d/pkg"),
        run,
        preset: "ultrafast",
        has_audio: true,
        thumbnail: None,
        cmaf_outputs: &[],
    });
    let start =
        "-hide_banner -nostdin -loglevel warning -y -thread_type slice -thread_queue_size 1024 -f flv -i pipe:0";
    assert_eq!(args[..13].join(" "), start);
    assert_eq!(
        value(&args, "-filter_complex"),
        "[0:v]split=2[s0][s1];[s0]fps=30/1,scale=1920:1080,format=yuv420p[v0];[s1]fps=30/1,scale=1280:720,format=yuv420p[v1]"
    );
    let maps: Vec<_> = args
        .windows(2)
        .filter(|w| w[0] == "-map")
        .map(|w| w[1].as_str())
        .collect();
    assert_eq!(maps, ["[v0]", "0:a:0", "[v1]", "0:a:0"]);
    assert_eq!(value(&args, "-preset"), "ultrafast");
    assert_eq!(value(&args, "-tune"), "zerolatency");
    assert_eq!(value(&args, "-force_key_frames"), "expr:gte(t,n_forced*2)");
    assert_eq!(value(&args, "-sc_threshold"), "0");
    assert_eq!(value(&args, "-g:v:0"), "60");
    let x264 = |o: &str| [value(&args, &format!("-{o}:v:0")), value(&args, &format!("-{o}:v:1"))];
    assert_eq!(
        [x264("profile"), x264("x264-params"), [value(&args, "-level:v:0"), ""]],
        [["high", "main"], ["cabac=1:8x8dct=1", "cabac=1"], ["4.0", ""]]
    );
    assert_eq!(value(&args, "-b:v:1"), "3000000");
    assert_eq!(value(&args, "-maxrate:v:1"), "3000000");
    assert_eq!(value(&args, "-bufsize:v:1"), "6000000");
    assert_eq!(value(&args, "-b:a"), "128000");
    assert_eq!(value(&args, "-ar"), "48000");
    assert_eq!(value(&args, "-hls_time"), "2");
    assert_eq!(value(&args, "-hls_list_size"), "301");
    assert_eq!(
        value(&args, "-hls_flags"),
        "delete_segments+temp_file+program_date_time"
    );
    assert_eq!(value(&args, "-start_number"), "17");
    assert_eq!(value(&args, "-hls_segment_filename"), "/d/pkg/%v/%d.ts");
    assert_eq!(value(&args, "-master_pl_name"), "ffmaster.m3u8");
    assert_eq!(value(&args, "-var_stream_map"), "v:0,a:0,name:1080p v:1,a:1,name:720p");
    assert_eq!(args.last().unwrap(), "/d/pkg/%v/run-4.m3u8");
}

#[test]
fn a_thumbnail_output_follows_the_ladder_when_thumbnails_are_on() {
    let job = job();
    let args = ffmpeg_args(&FfmpegRun {
        job: &job,
        channel_dir: Path::new("/d/pkg"),
        run: Run { id: 1, start_seq: 0 },
        preset: "ultrafast",
        has_audio: true,
        thumbnail: Some(Path::new("/d/ml/ch/thumbnail.jpg")),
        cmaf_outputs: &[],
    });
    let graph = value(&args, "-filter_complex");
    assert!(graph.starts_with("[0:v]split=3[s0][s1][s2];"), "{graph}");
    assert!(graph.ends_with(";[s2]fps=1/2,scale=480:-2[thumb]"), "{graph}");
    let hls = args.iter().position(|a| a == "/d/pkg/%v/run-1.m3u8").unwrap();
    let thumb = &args[hls + 1..];
    assert_eq!(
        thumb.join(" "),
        "-map [thumb] -c:v mjpeg -q:v 5 -f image2 -update 1 -atomic_writing 1 /d/ml/ch/thumbnail.jpg"
    );
}

#[test]
fn silent_audio_when_the_input_has_none() {
    let mut job = job();
    job.gop_seconds = 1.0;
    job.renditions.truncate(1);
    job.renditions[0].framerate_numerator = 30000;
    job.renditions[0].framerate_denominator = 1001;
    let run = Run { id: 0, start_seq: 0 };
    let args = ffmpeg_args(&FfmpegRun {
        job: &job,
        channel_dir: Path::new("/d"),
        run,
        preset: "superfast",
        has_audio: false,
        thumbnail: None,
        cmaf_outputs: &[],
    });
    let silence = "-re -f lavfi -i anullsrc=r=48000:cl=stereo -shortest";
    assert!(args.join(" ").contains(silence));
    assert!(args.windows(2).any(|w| w == ["-map", "1:a:0"]));
    assert_eq!(value(&args, "-g:v:0"), "30");
    assert_eq!(value(&args, "-force_key_frames"), "expr:gte(t,n_forced*1)");
    assert_eq!(value(&args, "-hls_list_size"), "601");
    assert!(value(&args, "-filter_complex").starts_with("[0:v]split=1[s0];[s0]fps=30000/1001,"));
}

#[test]
fn validates_jobs() {
    assert!(job().validate().is_ok());
    let mut bad = job();
    bad.renditions[1].name = "1080p".into();
    assert!(bad.validate().unwrap_err().contains("duplicate"));
    let mut bad = job();
    bad.renditions[0].width = 1919;
    assert!(bad.validate().is_err());
    let mut bad = job();
    bad.package_channel_id = Some("../x".into());
    assert!(bad.validate().is_err());
    let mut bad = job();
    bad.renditions[0].name = "a b".into();
    assert!(bad.validate().is_err());
}

#[test]
fn ladder_describes_renditions() {
    let ladder = ladder(&job(), true);
    assert_eq!(ladder.gop_seconds, 2.0);
    assert_eq!(ladder.renditions[1].name, "720p");
    assert_eq!(ladder.renditions[1].video_bitrate, 3_000_000);
    assert_eq!(ladder.renditions[1].audio_bitrate, 128_000);
    assert_eq!(ladder.renditions[1].codecs, "avc1.4d401f,mp4a.40.2");
}
