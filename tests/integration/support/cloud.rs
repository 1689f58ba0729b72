//! A live livestream-local for a test: started on free ports with short delays, stopped (by its
//! process id, through kill-on-drop) when the test ends.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use aws_sdk_medialive::types::{ChannelState, InputType};
use livestream_operator::{
    api::LiveStreamSpec,
    aws::{AwsClients, AwsSettings, Role},
    desired::{
        Names,
        ingest::IngestTarget,
        medialive::{PackageTarget, channel_settings, whitelist_rules},
        mediapackage::hls_package,
    },
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// The MediaLive role the stories' channels are created with.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";

pub struct LocalCloud {
    pub endpoint: String,
    pub data_dir: PathBuf,
    pub aws: AwsClients,
    _process: Child,
}

/// The livestream-local binary next to this test binary (`cargo build --workspace` builds it).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join("livestream-local");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` (hack/test.sh does)",
        path.display()
    );
    path
}

/// The tests' own key (SDK clients, the AWS CLI): livestream-local's administrator.
pub const ADMIN_KEY: (&str, &str) = ("local", "local");
/// The operator's key, bound to an IAM policy (deploy/iam-policy.json as shipped, unless a test
/// says otherwise).
pub const OPERATOR_KEY: (&str, &str) = ("AKIAOPERATOR", "operator-secret");

/// livestream-local's credentials: the tests' administrator key, the operator's key bound to
/// `policy`, and `more` keys.
pub fn key_file(policy: &serde_json::Value, more: &[serde_json::Value]) -> serde_json::Value {
    let mut keys = vec![
        serde_json::json!({"accessKeyId": ADMIN_KEY.0, "secretAccessKey": ADMIN_KEY.1, "user": "admin",
            "administrator": true}),
        serde_json::json!({"accessKeyId": OPERATOR_KEY.0, "secretAccessKey": OPERATOR_KEY.1,
            "user": "livestream-operator", "policy": policy}),
    ];
    keys.extend(more.iter().cloned());
    serde_json::json!({ "keys": keys })
}

/// The shipped least-privilege policy of the operator.
pub fn shipped_policy() -> serde_json::Value {
    serde_json::from_str(&crate::support::files::read("deploy/iam-policy.json")).unwrap()
}

impl LocalCloud {
    /// Starts with the default test timings; `extra` adds flags (e.g. fault injection). The
    /// operator's key is bound to the shipped policy.
    pub async fn start(extra: &[&str]) -> Self {
        Self::start_with_policy(extra, &shipped_policy()).await
    }

    /// As [`LocalCloud::start`], with the operator's key bound to `policy`.
    pub async fn start_with_policy(extra: &[&str], policy: &serde_json::Value) -> Self {
        Self::start_with_keys(extra, &key_file(policy, &[])).await
    }

    /// As [`LocalCloud::start`], with these keys (livestream-local's credentials file).
    pub async fn start_with_keys(extra: &[&str], keys: &serde_json::Value) -> Self {
        let data_dir = std::env::temp_dir().join(format!("livestream-local-test-{}-{}", std::process::id(), unique()));
        let credentials = data_dir.with_extension("credentials.json");
        std::fs::write(&credentials, keys.to_string()).unwrap();
        // Its log goes next to its data directory and stays after the test, for post-mortems.
        let log = std::fs::File::create(data_dir.with_extension("log")).unwrap();
        let mut process = Command::new(binary())
            .args(["--listen", "127.0.0.1:0", "--rtmp-port", "0", "--data-dir"])
            .arg(&data_dir)
            .arg("--credentials")
            .arg(&credentials)
            .args([
                "--channel-create-ms",
                "300",
                "--channel-start-ms",
                "500",
                "--channel-stop-ms",
                "300",
                "--channel-update-ms",
                "200",
                "--channel-delete-ms",
                "300",
                "--input-create-ms",
                "200",
                "--input-delete-ms",
                "200",
            ])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("livestream-local starts");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let endpoint = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("livestream-local listening on ") {
                    return url.to_owned();
                }
            }
            panic!("livestream-local exited before listening");
        })
        .await
        .expect("livestream-local listens within 20 s");
        // Keep draining stdout so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let aws = AwsClients::load(&AwsSettings {
            endpoint_url: Some(endpoint.clone()),
            region: Some("us-east-1".into()),
        })
        .await;
        Self {
            endpoint,
            data_dir,
            aws,
            _process: process,
        }
    }

    /// A CreateChannel request in AWS's names (`Tags` included) sent as it is by the SDK, which
    /// checks nothing itself: the answer in wire names (`channel.id`), or AWS's refusal.
    pub async fn send_channel(&self, request: &serde_json::Value) -> Result<serde_json::Value, String> {
        livestream_operator::aws::channel::create_as_is(&self.aws, request)
            .await
            .map_err(|e| e.to_string())
    }

    /// The operator's CreateChannel request, sent by the AWS CLI (`--cli-input-json`, the form
    /// `kubectl livestream render` prints); the new channel's id.
    pub async fn create_channel(&self, s: &livestream_operator::desired::medialive::ChannelSettings) -> String {
        let file = self.data_dir.with_extension(format!("channel-{}.json", unique()));
        std::fs::write(&file, s.request.to_string()).unwrap();
        let input = format!("file://{}", file.display());
        let cli = super::tools::Cli { cloud: self };
        let created = cli
            .ok(&["medialive", "create-channel", "--cli-input-json", &input])
            .await;
        created["Channel"]["Id"].as_str().expect("a channel id").to_owned()
    }

    /// Binds the operator's key to another policy from now on, as an administrator edits IAM.
    pub async fn set_operator_policy(&self, policy: &serde_json::Value) {
        let (status, body) = self.admin("PUT", "/_local/credentials", &key_file(policy, &[])).await;
        assert_eq!(status, 200, "{body}");
    }

    /// The livestream-local process's id (for its CPU time and memory in /proc).
    pub fn pid(&self) -> u32 {
        self._process.id().expect("livestream-local runs")
    }

    /// `GET` on the admin API (signed, see [`LocalCloud::admin`]) or the origin, as text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        if path.starts_with("/_local/") {
            return self.admin("GET", path, &serde_json::Value::Null).await;
        }
        http_get(&format!("{}{path}", self.endpoint)).await
    }

    /// A call to the admin API, signed for the `livestream-local` service by the tests'
    /// administrator key, as curl signs it (`--aws-sigv4`); a null body sends none.
    pub async fn admin(&self, method: &str, path: &str, body: &serde_json::Value) -> (u16, String) {
        let mut curl = Command::new("curl");
        curl.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method])
            .args(["--aws-sigv4", "aws:amz:us-east-1:livestream-local", "--user"])
            .arg(format!("{}:{}", ADMIN_KEY.0, ADMIN_KEY.1));
        if !body.is_null() {
            curl.args(["-H", "content-type: application/json", "--data-binary"])
                .arg(body.to_string());
        }
        let out = curl.arg(format!("{}{path}", self.endpoint)).output().await.unwrap();
        status_and_body(&out.stdout)
    }
}

/// What livestream-local logs when it answers 500 without an injected fault (its `serve` module).
const INTERNAL_ERROR: &str = "answered 500 InternalError without an injected fault";

impl Drop for LocalCloud {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        // A client's mistake is a 4xx: a 500 that no fault injection asked for fails the story.
        let log = self.data_dir.with_extension("log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let errors: Vec<&str> = text.lines().filter(|l| l.contains(INTERNAL_ERROR)).collect();
        if !errors.is_empty() && !std::thread::panicking() {
            panic!(
                "livestream-local answered 500 without an injected fault ({}):\n{}",
                log.display(),
                errors.join("\n")
            );
        }
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000
}

/// A plain HTTP GET through curl, as an independent client would fetch.
pub async fn http_get(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", url])
        .output()
        .await
        .unwrap();
    status_and_body(&out.stdout)
}

/// What curl printed with `-o - -w "\n%{http_code}"`: the status, and the body before it.
pub fn status_and_body(stdout: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(stdout);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// Polls `check` until it returns Some, or fails after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `ffmpeg` pushing a moving test pattern with a tone to `url` for `seconds`.
pub fn publish(url: &str, seconds: u32) -> Child {
    publish_through(url, seconds, None)
}

/// ffmpeg's video encoding for every test encoder: x264 as fast as it goes, a key frame a second.
pub const X264: [&str; 8] = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-g",
    "30",
    "-pix_fmt",
    "yuv420p",
];

/// [`publish`], the picture first drawn on by the video filter `filter`.
pub fn publish_through(url: &str, seconds: u32, filter: Option<&str>) -> Child {
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()]);
    if let Some(filter) = filter {
        ffmpeg.args(["-vf", filter]);
    }
    ffmpeg
        .args(X264)
        .args(["-c:a", "aac", "-b:a", "128k", "-f", "flv", url])
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg starts")
}

/// A MediaLive channel of the operator's desired settings, created straight through the SDK with
/// its input security group, RTMP input and MediaPackage channel and HLS endpoint; IDLE.
pub struct TestChannel {
    pub security_group_id: String,
    pub channel_id: String,
    /// The input's RTMP URL, `rtmp://127.0.0.1:PORT/APP/STREAM`.
    pub ingest: String,
    /// The endpoint's master playlist.
    pub playback: String,
}

impl LocalCloud {
    pub async fn test_channel(&self, spec: &LiveStreamSpec, names: &Names) -> TestChannel {
        let ml = &self.aws.medialive;
        let sg = ml
            .create_input_security_group()
            .set_whitelist_rules(Some(whitelist_rules(&spec.input)))
            .send()
            .await
            .unwrap();
        let security_group_id = sg.security_group.unwrap().id.unwrap();
        let input = ml
            .create_input()
            .r#type(InputType::RtmpPush)
            .input_security_groups(&security_group_id)
            .set_destinations(Some(IngestTarget::public(&spec.input).destinations(1)))
            .send()
            .await
            .unwrap()
            .input
            .unwrap();
        let (input_id, ingest) = (input.id.unwrap(), input.destinations.unwrap()[0].url.clone().unwrap());
        let playback = self.hls_endpoint(spec, names).await;
        let inputs = [(Role::Primary, input_id.as_str())];
        let channel_id = (self.create_channel(&channel_settings(spec, names, &inputs, ROLE, PackageTarget::V1))).await;
        let channel = TestChannel {
            security_group_id,
            channel_id,
            ingest,
            playback,
        };
        self.channel_state(&channel, ChannelState::Idle).await;
        channel
    }

    /// A MediaPackage v1 channel and its HLS endpoint for `spec`'s packaging; the playback URL.
    pub async fn hls_endpoint(&self, spec: &LiveStreamSpec, names: &Names) -> String {
        let mp = &self.aws.mediapackage;
        mp.create_channel().id(&names.channel).send().await.unwrap();
        let endpoint = mp
            .create_origin_endpoint()
            .channel_id(&names.channel)
            .id(&names.endpoint)
            .hls_package(hls_package(&spec.packaging.hls))
            .send()
            .await
            .unwrap();
        endpoint.url.unwrap()
    }

    /// Waits (10 s at most) until the channel is in state `want`.
    pub async fn channel_state(&self, channel: &TestChannel, want: ChannelState) {
        let ml = &self.aws.medialive;
        eventually(&format!("channel {want:?}"), Duration::from_secs(10), || async {
            let now = ml
                .describe_channel()
                .channel_id(&channel.channel_id)
                .send()
                .await
                .ok()?
                .state;
            (now == Some(want.clone())).then_some(())
        })
        .await
    }

    /// A counter of livestream-local's media path from `/metrics` (e.g. `publishes`, `refused_publishers`).
    pub async fn media_counter(&self, name: &str) -> u64 {
        let (_, metrics) = self.get("/metrics").await;
        let prefix = format!("livestream_local_media_{name} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
    }
}
