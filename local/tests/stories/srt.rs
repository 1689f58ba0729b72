//! SRT contribution with the passphrase in Secrets Manager. A broadcaster stores the passphrase
//! with the AWS CLI, creates an input security group and an SRT_LISTENER input, and a channel
//! whose HLS really plays when three SRT clients no one here wrote publish to it: ffmpeg,
//! `srt-live-transmit` and GStreamer's `srtsink`. A wrong passphrase is refused by SRT itself and
//! raises an alert; an unknown stream id is accepted (AWS's documented behaviour); a rotated
//! passphrase is what the next publisher needs; a role that may not read the secret gives the
//! alert and no listener; an SRT_CALLER input pulls from an encoder that listens. Plus Secrets
//! Manager's refusals, in its words, through the AWS CLI.

use std::process::Stdio;
use std::time::Duration;

use aws_sdk_medialive::types::ChannelState;
use livestream_operator::{
    api::LiveStreamSpec,
    aws::Role,
    desired::{
        Names,
        medialive::{PackageTarget, channel_settings},
    },
};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::cloud::{LocalCloud, ROLE, TestChannel, eventually, http_get, key_file, shipped_policy};
use crate::support::tools::{Cli, probe_streams};

const FIRST: &str = "first-passphrase-1";
const SECOND: &str = "second-passphrase-2";
/// A role the credentials declare, allowed everything but Secrets Manager.
const NO_SECRETS_ROLE: &str = "arn:aws:iam::123456789012:role/NoSecretsRole";

async fn cloud() -> LocalCloud {
    let mut keys = key_file(&shipped_policy(), &[]);
    keys["roles"] = json!([{"name": "NoSecretsRole", "policy": {"Statement": [
        {"Effect": "Allow", "NotAction": "secretsmanager:*", "Resource": "*"}]}}]);
    LocalCloud::start_with_keys(&[], &keys).await
}

fn spec() -> LiveStreamSpec {
    serde_json::from_value(json!({
        "input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/srt"},
        "packaging": {"hls": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 30}}
    }))
    .unwrap()
}

/// An IDLE channel of the operator's settings on `input_id`, with its HLS endpoint.
async fn channel(cloud: &LocalCloud, input_id: &str, name: &str, role: &str) -> TestChannel {
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: name.into(),
        endpoint: format!("{name}-hls"),
    };
    let playback = cloud.hls_endpoint(&spec(), &names).await;
    let settings = channel_settings(&spec(), &names, &[(Role::Primary, input_id)], role, PackageTarget::V1);
    let channel = TestChannel {
        security_group_id: String::new(),
        channel_id: cloud.create_channel(&settings).await,
        ingest: String::new(),
        playback,
    };
    cloud.channel_state(&channel, ChannelState::Idle).await;
    let ml = &cloud.aws.medialive;
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;
    channel
}

/// How many segments the endpoint's first rendition has listed so far (0 before any).
async fn segments(playback: &str) -> u64 {
    let (status, master) = http_get(playback).await;
    let Some(first) = master.lines().find(|l| !l.starts_with('#') && !l.is_empty()) else {
        return 0;
    };
    if status != 200 {
        return 0;
    }
    let (_, text) = http_get(&format!("{}{first}", playback.replace("index.m3u8", ""))).await;
    let sequence: u64 = (text.lines())
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")?.parse().ok())
        .unwrap_or(0);
    sequence + text.matches("#EXTINF").count() as u64
}

/// Two new segments within 40 s: the publisher's media plays.
async fn plays(cloud: &LocalCloud, playback: &str, what: &str) -> Vec<String> {
    let before = segments(playback).await;
    eventually(&format!("{what}'s segments"), Duration::from_secs(40), || async {
        (segments(playback).await >= before + 2).then_some(())
    })
    .await;
    let _ = cloud;
    probe_streams(playback).await
}

fn ffmpeg_test_pattern(seconds: u32) -> Command {
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "30",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-b:a", "128k", "-f", "mpegts"])
        .kill_on_drop(true);
    ffmpeg
}

/// ffmpeg publishing MPEG-TS over SRT to `url` for `seconds`.
fn ffmpeg_srt(url: &str, seconds: u32) -> Child {
    ffmpeg_test_pattern(seconds).arg(url).spawn().expect("ffmpeg starts")
}

/// `srt-live-transmit` publishing what ffmpeg writes on its stdin (`file://con`); both processes.
fn srt_live_transmit(url: &str, seconds: u32) -> (Child, Child) {
    let mut ffmpeg = ffmpeg_test_pattern(seconds)
        .arg("-")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout: Stdio = ffmpeg.stdout.take().unwrap().try_into().unwrap();
    let transmit = Command::new("srt-live-transmit")
        .args(["-q", "file://con", url])
        .stdin(stdout)
        .kill_on_drop(true)
        .spawn()
        .expect("srt-live-transmit starts");
    (ffmpeg, transmit)
}

/// GStreamer's `srtsink` publishing a test pattern with AAC audio for about `seconds`.
fn gst_srtsink(port: u16, passphrase: &str, seconds: u32) -> Child {
    let pipeline = format!(
        // `alignment=7`: seven 188-byte TS packets per SRT message (1316 bytes, SRT's live-mode payload).
        "videotestsrc is-live=true num-buffers={video} ! video/x-raw,width=1280,height=720,framerate=30/1 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! h264parse config-interval=-1 \
         ! video/x-h264,stream-format=byte-stream,alignment=au ! mpegtsmux name=m alignment=7 \
         ! srtsink uri=srt://127.0.0.1:{port} passphrase={passphrase} pbkeylen=16 \
         audiotestsrc is-live=true num-buffers={audio} ! audioconvert ! avenc_aac ! aacparse ! m.",
        video = seconds * 30,
        audio = seconds * 43,
    );
    Command::new("gst-launch-1.0")
        .args(["-q", "-e"])
        .args(pipeline.split_whitespace())
        .kill_on_drop(true)
        .spawn()
        .expect("gst-launch-1.0 starts")
}

/// Waits (at most `limit`) for a publisher to end on its own, then kills it; whether it succeeded.
async fn ended(mut child: Child, limit: Duration) -> bool {
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => status.is_ok_and(|s| s.success()),
        Err(_) => {
            let _ = child.kill().await;
            false
        }
    }
}

/// The alert types ListAlerts shows for the channel (set or cleared).
async fn alert_types(cli: &Cli<'_>, channel_id: &str) -> Vec<String> {
    let listed = cli.ok(&["medialive", "list-alerts", "--channel-id", channel_id]).await;
    (listed["Alerts"].as_array().into_iter().flatten())
        .filter_map(|a| a["AlertType"].as_str().map(str::to_owned))
        .collect()
}

async fn srt_listener_input(cli: &Cli<'_>, secret_arn: &str) -> (String, u16) {
    let group = cli
        .ok(&[
            "medialive",
            "create-input-security-group",
            "--whitelist-rules",
            "Cidr=127.0.0.0/8",
        ])
        .await;
    let group_id = group["SecurityGroup"]["Id"].as_str().unwrap().to_owned();
    let settings = json!({"SrtListenerSettings": {"MinimumLatency": 200,
        "Decryption": {"Algorithm": "AES128", "PassphraseSecretArn": secret_arn}}});
    let input = cli
        .ok(&[
            "medialive",
            "create-input",
            "--type",
            "SRT_LISTENER",
            "--name",
            "contribution",
            "--input-security-groups",
            &group_id,
            "--srt-settings",
            &settings.to_string(),
        ])
        .await;
    let destination = &input["Input"]["Destinations"][0];
    let url = destination["Url"].as_str().unwrap();
    assert_eq!(input["Input"]["InputClass"], "SINGLE_PIPELINE", "{input}");
    assert_eq!(destination["Ip"], "127.0.0.1");
    let port: u16 = destination["Port"].as_str().unwrap().parse().unwrap();
    assert_eq!(url, format!("srt://127.0.0.1:{port}"));
    (input["Input"]["Id"].as_str().unwrap().to_owned(), port)
}

#[tokio::test]
async fn three_srt_clients_publish_with_the_passphrase_from_secrets_manager_and_rotation_takes_effect() {
    let cloud = cloud().await;
    let cli = Cli { cloud: &cloud };
    let secret = cli
        .ok(&[
            "secretsmanager",
            "create-secret",
            "--name",
            "contribution/srt",
            "--secret-string",
            FIRST,
        ])
        .await;
    let arn = secret["ARN"].as_str().unwrap().to_owned();
    let (input_id, port) = srt_listener_input(&cli, &arn).await;
    let channel = channel(&cloud, &input_id, "srt", ROLE).await;
    let base = format!("srt://127.0.0.1:{port}");
    let mut matrix = Vec::new();

    // ffmpeg, with a stream id MediaLive does not know: accepted, as on AWS.
    let publisher = ffmpeg_srt(
        &format!("{base}?passphrase={FIRST}&pbkeylen=16&streamid=nobody-knows-me"),
        14,
    );
    let streams = plays(&cloud, &channel.playback, "ffmpeg").await;
    assert!(streams.iter().any(|s| s.starts_with("h264")), "{streams:?}");
    matrix.push(format!("ffmpeg (unknown stream id): plays {streams:?}"));
    assert!(ended(publisher, Duration::from_secs(30)).await);

    let (feeder, transmit) = srt_live_transmit(&format!("{base}?passphrase={FIRST}&pbkeylen=16"), 14);
    let streams = plays(&cloud, &channel.playback, "srt-live-transmit").await;
    assert!(streams.iter().any(|s| s.starts_with("h264")), "{streams:?}");
    matrix.push(format!("srt-live-transmit: plays {streams:?}"));
    ended(feeder, Duration::from_secs(30)).await;
    ended(transmit, Duration::from_secs(10)).await;

    // srt-live-transmit leaves at its stdin's end without closing the SRT session: the listener
    // sees the peer go only after SRT's idle timeout (5 s), then re-arms.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let gst = gst_srtsink(port, FIRST, 14);
    let streams = plays(&cloud, &channel.playback, "GStreamer srtsink").await;
    assert!(streams.iter().any(|s| s.starts_with("h264")), "{streams:?}");
    matrix.push(format!("GStreamer srtsink: plays {streams:?}"));
    ended(gst, Duration::from_secs(30)).await;

    // A wrong passphrase: SRT's handshake refuses it, the publisher gives up, the alert is raised.
    let before = cloud.media_counter("publishes").await;
    let wrong = ffmpeg_srt(&format!("{base}?passphrase=not-the-passphrase&pbkeylen=16"), 5);
    assert!(
        !ended(wrong, Duration::from_secs(30)).await,
        "a wrong passphrase is refused"
    );
    eventually("the rejection alert", Duration::from_secs(10), || async {
        alert_types(&cli, &channel.channel_id)
            .await
            .iter()
            .any(|t| t == "SRT Connection Rejected")
            .then_some(())
    })
    .await;
    assert_eq!(cloud.media_counter("publishes").await, before, "no media from it");
    matrix.push("ffmpeg (wrong passphrase): refused, alert SRT Connection Rejected".into());

    // Rotation: the next publisher needs the new passphrase, without a channel restart.
    cli.ok(&[
        "secretsmanager",
        "put-secret-value",
        "--secret-id",
        "contribution/srt",
        "--secret-string",
        SECOND,
    ])
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let old = ffmpeg_srt(&format!("{base}?passphrase={FIRST}&pbkeylen=16"), 5);
    assert!(
        !ended(old, Duration::from_secs(30)).await,
        "the old passphrase is refused"
    );
    let new = ffmpeg_srt(&format!("{base}?passphrase={SECOND}&pbkeylen=16"), 12);
    plays(&cloud, &channel.playback, "the rotated passphrase").await;
    ended(new, Duration::from_secs(30)).await;
    matrix.push("after PutSecretValue: old passphrase refused, new one plays".into());
    for row in &matrix {
        println!("{row}");
    }
    let ml = &cloud.aws.medialive;
    ml.stop_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Idle).await;
}

#[tokio::test]
async fn a_role_without_get_secret_value_raises_the_alert_and_an_srt_caller_input_pulls_from_a_listener() {
    let cloud = cloud().await;
    let cli = Cli { cloud: &cloud };
    let secret = cli
        .ok(&[
            "secretsmanager",
            "create-secret",
            "--name",
            "caller/srt",
            "--secret-string",
            FIRST,
        ])
        .await;
    let arn = secret["ARN"].as_str().unwrap().to_owned();
    let (input_id, port) = srt_listener_input(&cli, &arn).await;
    let denied = channel(&cloud, &input_id, "denied", NO_SECRETS_ROLE).await;
    eventually("the secret alert", Duration::from_secs(10), || async {
        let types = alert_types(&cli, &denied.channel_id).await;
        types
            .iter()
            .any(|t| t == "SRT Passphrase Secret Not Accessible")
            .then_some(())
    })
    .await;
    // No listener started: a publisher with the right passphrase finds no one.
    let nobody = ffmpeg_srt(&format!("srt://127.0.0.1:{port}?passphrase={FIRST}&pbkeylen=16"), 3);
    assert!(!ended(nobody, Duration::from_secs(30)).await);
    let ml = &cloud.aws.medialive;
    ml.stop_channel().channel_id(&denied.channel_id).send().await.unwrap();
    cloud.channel_state(&denied, ChannelState::Idle).await;

    // SRT_CALLER: ffmpeg listens as the encoder; the channel dials it with the passphrase.
    let listen_port = free_udp_port();
    let encoder = ffmpeg_srt(
        &format!("srt://127.0.0.1:{listen_port}?mode=listener&passphrase={FIRST}&pbkeylen=16"),
        40,
    );
    let sources = json!({"SrtCallerSources": [{"SrtListenerAddress": "127.0.0.1",
        "SrtListenerPort": listen_port.to_string(), "StreamId": "caller-story", "MinimumLatency": 200,
        "Decryption": {"Algorithm": "AES128", "PassphraseSecretArn": arn}}]});
    let input = cli
        .ok(&[
            "medialive",
            "create-input",
            "--type",
            "SRT_CALLER",
            "--srt-settings",
            &sources.to_string(),
        ])
        .await;
    let caller_id = input["Input"]["Id"].as_str().unwrap().to_owned();
    let caller = channel(&cloud, &caller_id, "caller", ROLE).await;
    let streams = plays(&cloud, &caller.playback, "the SRT caller input").await;
    assert!(streams.iter().any(|s| s.starts_with("h264")), "{streams:?}");
    println!("SRT_CALLER from an ffmpeg listener: plays {streams:?}");
    ml.stop_channel().channel_id(&caller.channel_id).send().await.unwrap();
    cloud.channel_state(&caller, ChannelState::Idle).await;
    let mut encoder = encoder;
    let _ = encoder.kill().await;
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Secrets Manager's refusals through the AWS CLI: the error's type and AWS's words.
#[tokio::test]
async fn secrets_manager_refuses_in_its_own_words() {
    let cloud = LocalCloud::start(&[]).await;
    let cli = Cli { cloud: &cloud };
    let sm = |args: &[&str]| {
        [&["secretsmanager"], args]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    let fails = |args: Vec<String>| {
        let cli = &cli;
        async move { cli.fails(&args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    let token = "0123456789abcdef0123456789abcdef";
    let created = cli
        .ok(&[
            "secretsmanager",
            "create-secret",
            "--name",
            "s",
            "--secret-string",
            "v1-value-xx",
            "--client-request-token",
            token,
            "--tags",
            "Key=team,Value=live",
        ])
        .await;
    let again = cli
        .ok(&[
            "secretsmanager",
            "create-secret",
            "--name",
            "s",
            "--secret-string",
            "v1-value-xx",
            "--client-request-token",
            token,
        ])
        .await;
    assert_eq!(again, created, "the same token and value answer the same");
    let arn = created["ARN"].as_str().unwrap();
    assert!(
        regex_like_arn(arn),
        "arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 alphanumerics>: {arn}"
    );
    let error = fails(sm(&[
        "create-secret",
        "--name",
        "s",
        "--secret-string",
        "other",
        "--client-request-token",
        token,
    ]))
    .await;
    assert!(error.contains("(ResourceExistsException)"), "{error}");
    let error = fails(sm(&["create-secret", "--name", "s", "--secret-string", "other"])).await;
    assert!(
        error.contains("(ResourceExistsException)")
            && error.contains("The operation failed because the secret s already exists."),
        "{error}"
    );
    let error = fails(sm(&["get-secret-value", "--secret-id", "missing"])).await;
    assert!(
        error.contains("(ResourceNotFoundException)")
            && error.contains("Secrets Manager can't find the specified secret."),
        "{error}"
    );
    let error = fails(sm(&[
        "delete-secret",
        "--secret-id",
        "s",
        "--recovery-window-in-days",
        "6",
    ]))
    .await;
    assert!(error.contains("(InvalidParameterException)"), "{error}");
    let error = fails(sm(&[
        "delete-secret",
        "--secret-id",
        "s",
        "--recovery-window-in-days",
        "7",
        "--force-delete-without-recovery",
    ]))
    .await;
    assert!(error.contains("(InvalidParameterException)"), "{error}");

    let put = cli
        .ok(&[
            "secretsmanager",
            "put-secret-value",
            "--secret-id",
            arn,
            "--secret-string",
            "v2-value-xx",
        ])
        .await;
    let described = cli.ok(&["secretsmanager", "describe-secret", "--secret-id", "s"]).await;
    let stages = &described["VersionIdsToStages"];
    assert_eq!(stages[token], json!(["AWSPREVIOUS"]), "{described}");
    assert_eq!(stages[put["VersionId"].as_str().unwrap()], json!(["AWSCURRENT"]));
    let listed = cli
        .ok(&[
            "secretsmanager",
            "list-secrets",
            "--filters",
            "Key=tag-value,Values=live",
        ])
        .await;
    assert_eq!(listed["SecretList"].as_array().unwrap().len(), 1, "{listed}");

    let deleted = cli.ok(&["secretsmanager", "delete-secret", "--secret-id", "s"]).await;
    assert!(deleted["DeletionDate"].is_number(), "{deleted}");
    let described = cli.ok(&["secretsmanager", "describe-secret", "--secret-id", "s"]).await;
    assert!(
        described["DeletedDate"].is_number(),
        "scheduled for deletion: {described}"
    );
    let error = fails(sm(&["get-secret-value", "--secret-id", "s"])).await;
    assert!(
        error.contains("(InvalidRequestException)")
            && error.contains("You can't perform this operation on the secret because it was marked for deletion."),
        "{error}"
    );
    let error = fails(sm(&["create-secret", "--name", "s", "--secret-string", "x"])).await;
    assert!(
        error.contains(
            "You can't create this secret because a secret with this name is already scheduled for deletion."
        ),
        "{error}"
    );
    cli.ok(&["secretsmanager", "restore-secret", "--secret-id", "s"]).await;
    let value: Value = cli
        .ok(&["secretsmanager", "get-secret-value", "--secret-id", "s"])
        .await;
    assert_eq!(value["SecretString"], "v2-value-xx");
    cli.ok(&[
        "secretsmanager",
        "delete-secret",
        "--secret-id",
        "s",
        "--force-delete-without-recovery",
    ])
    .await;
    let error = fails(sm(&["describe-secret", "--secret-id", "s"])).await;
    assert!(error.contains("(ResourceNotFoundException)"), "gone at once: {error}");
}

fn regex_like_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:secretsmanager:us-east-1:123456789012:secret:s-") else {
        return false;
    };
    rest.len() == 6 && rest.chars().all(|c| c.is_ascii_alphanumeric())
}
