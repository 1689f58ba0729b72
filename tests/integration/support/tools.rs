//! The tools the stories drive livestream-local with, none of them Kubernetes: the AWS CLI
//! ([`Cli`]), curl's SigV4 for raw requests ([`raw`]), ffprobe ([`ffprobe`], [`probe_streams`])
//! and the RTMP encoders a user may have ([`push`]). Shared by the operator's stories
//! (tests/integration) and livestream-local's own (local/tests/stories).

use std::process::Stdio;

use serde_json::Value;
use tokio::process::{Child, Command};

use super::cloud::{ADMIN_KEY, LocalCloud, publish};

/// The AWS CLI against one livestream-local.
pub struct Cli<'a> {
    pub cloud: &'a LocalCloud,
}

impl Cli<'_> {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("aws");
        command
            .args([
                "--endpoint-url",
                &self.cloud.endpoint,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", ADMIN_KEY.0)
            .env("AWS_SECRET_ACCESS_KEY", ADMIN_KEY.1)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_PAGER", "");
        command
    }

    /// Runs `aws ARGS`, which must succeed; returns its JSON output (Null when it prints nothing).
    pub async fn ok(&self, args: &[&str]) -> Value {
        let out = self.command(args).output().await.expect("aws CLI runs");
        assert!(
            out.status.success(),
            "aws {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// An RTMP push input `name` (stream `live/NAME`) in a new security group open to loopback:
    /// (security group id, input id, the input's first URL).
    pub async fn rtmp_input(&self, name: &str) -> (String, String, String) {
        let rules = [
            "medialive",
            "create-input-security-group",
            "--whitelist-rules",
            "Cidr=127.0.0.0/8",
        ];
        let sg = self.ok(&rules).await["SecurityGroup"]["Id"]
            .as_str()
            .unwrap()
            .to_owned();
        let stream = format!("StreamName=live/{name}");
        let input = self
            .ok(&[
                "medialive",
                "create-input",
                "--name",
                name,
                "--type",
                "RTMP_PUSH",
                "--input-security-groups",
                &sg,
                "--destinations",
                &stream,
            ])
            .await;
        let input = &input["Input"];
        let url = input["Destinations"][0]["Url"].as_str().unwrap().to_owned();
        (sg, input["Id"].as_str().unwrap().to_owned(), url)
    }

    /// Runs `aws ARGS`, which must fail; returns its error output.
    pub async fn fails(&self, args: &[&str]) -> String {
        let out = self.command(args).output().await.expect("aws CLI runs");
        assert!(!out.status.success(), "aws {} unexpectedly succeeded", args.join(" "));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// Sends one request as an unchecked client would; (status, x-amzn-ErrorType, JSON body).
pub async fn raw(
    cloud: &LocalCloud,
    service: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, String, Value) {
    // curl signs with its own SigV4 implementation: a signer no one here wrote.
    let sigv4 = format!("aws:amz:us-east-1:{service}");
    let user = format!("{}:{}", ADMIN_KEY.0, ADMIN_KEY.1);
    let mut curl = Command::new("curl");
    curl.args(["-s", "-i", "-X", method, "--aws-sigv4", &sigv4, "--user", &user]);
    curl.args(["-H", "Content-Type: application/json"]);
    if let Some(body) = body {
        curl.args(["--data-binary", &body.to_string()]);
    }
    let out = curl.arg(format!("{}{path}", cloud.endpoint)).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let kind = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("x-amzn-errortype:")
                .then(|| l[17..].trim().to_owned())
        })
        .unwrap_or_default();
    (status, kind, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// ffprobe's JSON about `args`, failing the test with its stderr.
pub async fn ffprobe(args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ffprobe {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The distinct streams ffprobe finds behind a master playlist, as `codec WIDTHxHEIGHT`, sorted.
pub async fn probe_streams(playback: &str) -> Vec<String> {
    let probe = ffprobe(&["-show_entries", "stream=codec_name,width,height", playback]).await;
    let mut streams: Vec<String> = probe["streams"]
        .as_array()
        .unwrap_or_else(|| panic!("no streams: {probe}"))
        .iter()
        .map(|s| format!("{} {}x{}", s["codec_name"].as_str().unwrap(), s["width"], s["height"]))
        .collect();
    streams.sort();
    streams.dedup();
    streams
}

/// The RTMP publishers a user may have, by name.
#[derive(Clone, Copy, Debug)]
pub enum Encoder {
    Ffmpeg,
    /// GStreamer `rtmpsink`: librtmp. `url` may carry librtmp options (`playpath=KEY live=1`).
    GstLibrtmp,
    GstRtmp2,
}

/// A 720p30 test pattern with AAC audio pushed by `encoder` to `url` until killed.
pub fn push(encoder: Encoder, url: &str) -> Child {
    let sink = match encoder {
        Encoder::Ffmpeg => return publish(url, 600),
        Encoder::GstLibrtmp if url.contains(' ') => format!("rtmpsink location=\"{url}\""),
        Encoder::GstLibrtmp => format!("rtmpsink location=\"{url} live=1\""),
        Encoder::GstRtmp2 => format!("rtmp2sink location={url}"),
    };
    let pipeline = format!(
        "videotestsrc is-live=true pattern=smpte ! video/x-raw,width=1280,height=720,framerate=30/1 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse \
         ! flvmux name=m streamable=true ! {sink} \
         audiotestsrc is-live=true ! audioconvert ! audioresample ! audio/x-raw,rate=48000 \
         ! avenc_aac ! aacparse ! m."
    );
    Command::new("gst-launch-1.0")
        .arg("-q")
        .args(shell_words(&pipeline))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("gst-launch-1.0 starts (hack/setup.sh installs GStreamer)")
}

/// gst-launch takes the pipeline as words; a quoted location stays one word.
fn shell_words(pipeline: &str) -> Vec<String> {
    let mut words = vec![String::new()];
    let mut quoted = false;
    for c in pipeline.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => words.push(String::new()),
            c => words.last_mut().unwrap().push(c),
        }
    }
    words.retain(|w| !w.is_empty());
    words
}

/// ffmpeg pushing a solid `colour` (640x360, 30 fps, a key frame a second) with a tone to `url`
/// until killed: an encoder whose picture says which one is on air.
pub fn colour_encoder(url: &str, colour: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", &format!("color=c=0x{colour:06X}:s=640x360:r=30")])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(super::cloud::X264)
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "flv", url])
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg starts")
}

/// Which of `colours` the first frame of a segment shows (its average colour, nearest by
/// distance), as ffmpeg decodes it.
pub async fn colour_of(segment_url: &str, colours: &[u32]) -> Option<u32> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i", segment_url])
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=1:1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .await
        .ok()?;
    let rgb = out.stdout.get(..3)?;
    let distance = |c: u32| {
        let channel = |n: usize, shift: u32| (i32::from(rgb[n]) - ((c >> shift) & 0xFF) as i32).pow(2);
        channel(0, 16) + channel(1, 8) + channel(2, 0)
    };
    colours.iter().copied().min_by_key(|c| distance(*c))
}
