//! Running a live event without the AWS console: whether the encoder is connected and what
//! MediaLive alerts say, the input-loss cost guard, a schedule, thumbnails, and all of it through
//! `kubectl livestream` found by kubectl's own plugin discovery.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::support::cloud::{LocalCloud, eventually, publish};
use crate::support::cluster::{admin_kubeconfig, kubectl_ok, namespace};
use crate::support::operator::{BINARY, Operator, condition, kubectl_wait, patch, status};

/// A directory holding `kubectl-livestream`, a symlink to the operator binary, as a user installs it.
fn plugin_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubectl-plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("kubectl-livestream");
    if !link.exists() {
        std::os::unix::fs::symlink(BINARY, &link).unwrap();
    }
    dir
}

/// kubectl with the plugin on PATH and `env` set.
fn kubectl_with_plugin(args: &[&str], env: &[(&str, &str)]) -> Output {
    let path = format!("{}:{}", plugin_dir().display(), std::env::var("PATH").unwrap());
    std::process::Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", admin_kubeconfig())
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("kubectl runs")
}

/// `kubectl livestream ARGS`.
fn plugin(args: &[&str], env: &[(&str, &str)]) -> Output {
    kubectl_with_plugin(&[&["livestream"], args].concat(), env)
}

pub(crate) fn plugin_ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = plugin(args, env);
    assert!(
        out.status.success(),
        "kubectl livestream {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn alert_types(ns: &str, name: &str) -> Vec<String> {
    (status(ns, name)["alerts"].as_array().into_iter().flatten())
        .filter_map(|a| a["type"].as_str().map(str::to_owned))
        .collect()
}

fn events(ns: &str, name: &str) -> String {
    kubectl_ok(&[
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        &format!("involvedObject.name={name}"),
        "-o",
        "jsonpath={range .items[*]}{.type} {.reason}: {.message}{\"\\n\"}{end}",
    ])
}

#[tokio::test]
async fn an_event_shows_its_encoder_alerts_and_thumbnail_and_stops_itself_when_the_encoder_is_gone() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("event");
    let _operator = Operator::start(&cloud, &ns).await;
    let listed = String::from_utf8(kubectl_with_plugin(&["plugin", "list"], &[]).stdout).unwrap();
    assert!(
        listed.contains("kubectl-livestream"),
        "kubectl finds the plugin: {listed}"
    );
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    patch(&ns, "minimal", r#"{"running":true,"stopAfterInputLoss":"25s"}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(60),
    );

    // Running, nobody pushing: MediaLive says the RTMP stream is not found.
    eventually("the no-input alert in status", Duration::from_secs(20), || async {
        alert_types(&ns, "minimal")
            .contains(&"RTMP Stream Not Found".to_owned())
            .then_some(())
    })
    .await;
    assert_eq!(condition(&ns, "minimal", "InputConnected")["status"], "False");
    assert_eq!(condition(&ns, "minimal", "Alerting")["status"], "True");

    // The encoder connects (OBS settings from the plugin).
    let obs = plugin_ok(&["obs", "minimal", "-n", &ns], &[]);
    let server = obs
        .lines()
        .find_map(|l| l.strip_prefix("Server:"))
        .unwrap()
        .trim()
        .to_owned();
    let key = obs
        .lines()
        .find_map(|l| l.strip_prefix("Stream Key:"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(key, "channel", "{obs}");
    let mut encoder = publish(&format!("{server}/{key}"), 120);
    plugin_ok(
        &["wait", "minimal", "-n", &ns, "--for", "live", "--timeout", "60s"],
        &[],
    );
    assert!(alert_types(&ns, "minimal").is_empty(), "{:?}", status(&ns, "minimal"));
    let table = kubectl_ok(&["get", "lvs", "minimal", "-n", &ns]);
    let rows: Vec<Vec<&str>> = (table.lines())
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect())
        .collect();
    let input = rows[0].iter().position(|h| *h == "INPUT").expect("an INPUT column");
    assert_eq!(rows[1][input], "True", "the INPUT column:\n{table}");
    let screen = plugin_ok(&["status", "minimal", "-n", &ns], &[]);
    println!("kubectl livestream status minimal:\n{screen}");
    for want in [
        "State:          RUNNING since",
        "Input:          connected",
        "Alerts:         none",
        "Billed so far:",
    ] {
        assert!(screen.contains(want), "{want:?} not in\n{screen}");
    }

    // A thumbnail of what the encoder sends, through MediaLive's DescribeThumbnails.
    let frame = std::env::temp_dir().join(format!("{ns}-frame.jpg"));
    let endpoint = [
        ("AWS_ENDPOINT_URL", cloud.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
    ];
    let frame_arg = frame.to_str().unwrap();
    eventually("a thumbnail", Duration::from_secs(20), || async {
        plugin(&["thumbnail", "minimal", "-n", &ns, "-o", frame_arg], &endpoint)
            .status
            .success()
            .then_some(())
    })
    .await;
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(&frame)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout).trim(),
        "mjpeg,480,270",
        "the 1280x720 input, 480 wide"
    );
    let _ = std::fs::remove_file(&frame);

    // The encoder goes away: input loss is reported, then the guard stops the billed channel.
    encoder.kill().await.unwrap();
    eventually("InputConnected False", Duration::from_secs(30), || async {
        (condition(&ns, "minimal", "InputConnected")["reason"] == "NoInput").then_some(())
    })
    .await;
    assert!(alert_types(&ns, "minimal").contains(&"RTMP Has No Audio/Video".to_owned()));
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "minimal", Duration::from_secs(60));
    let stopped = condition(&ns, "minimal", "Stopped");
    assert_eq!(
        (stopped["status"].as_str(), stopped["reason"].as_str()),
        (Some("True"), Some("InputLoss"))
    );
    let told = events(&ns, "minimal");
    for want in [
        "Warning AlertSet: MediaLive raised \"RTMP Stream Not Found\"",
        "Normal AlertCleared",
        "Normal InputConnected",
        "Warning InputLost",
        "Warning InputLoss: Stopping MediaLive channel",
    ] {
        assert!(told.contains(want), "{want:?} not in\n{told}");
    }
    // It stays stopped while spec.running is still true; the plugin's stop and start run it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(status(&ns, "minimal")["state"], "IDLE");
    plugin_ok(&["stop", "minimal", "-n", &ns], &[]);
    plugin_ok(&["start", "minimal", "-n", &ns], &[]);
    plugin_ok(
        &["wait", "minimal", "-n", &ns, "--for", "running", "--timeout", "60s"],
        &[],
    );
    plugin_ok(&["stop", "minimal", "-n", &ns], &[]);
    plugin_ok(
        &["wait", "minimal", "-n", &ns, "--for", "stopped", "--timeout", "60s"],
        &[],
    );
    let billed = status(&ns, "minimal")["billedSeconds"].as_i64().unwrap();
    assert!(billed >= 25, "two runs, the first over 25 s: {billed}");
    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--timeout", "60s"]);
}

#[tokio::test]
async fn a_schedule_a_minute_ahead_starts_and_stops_the_channel() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("schedule");
    let _operator = Operator::start(&cloud, &ns).await;
    // Whole seconds: the window is written to the second, so "not before" compares like for like.
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let start = now + jiff::SignedDuration::from_secs(60);
    let end = start + jiff::SignedDuration::from_secs(20);
    // Civil times in the stream's zone, as a person writes them.
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let civil = |t: jiff::Timestamp| {
        t.to_zoned(zone.clone())
            .datetime()
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    let schedule = format!(
        r#"{{"schedule":{{"timeZone":"Europe/Paris","leadTime":"0s","windows":[{{"start":"{}","end":"{}"}}]}}}}"#,
        civil(start),
        civil(end)
    );
    patch(&ns, "minimal", &schedule);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    let next = status(&ns, "minimal")["schedule"]["nextStart"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next.parse::<jiff::Timestamp>().unwrap().as_second(), start.as_second());
    assert_eq!(condition(&ns, "minimal", "Stopped")["reason"], "OutsideSchedule");
    let wide = kubectl_ok(&["get", "lvs", "minimal", "-n", &ns, "-o", "wide"]);
    assert!(wide.contains("NEXT START"), "{wide}");
    let screen = plugin_ok(&["status", "minimal", "-n", &ns], &[]);
    assert!(screen.contains(&format!("Next start:     {next}")), "{screen}");

    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(90),
    );
    let started = jiff::Timestamp::now();
    assert!(started >= start, "not before the window: {started} < {start}");
    assert_eq!(condition(&ns, "minimal", "Stopped")["reason"], "ScheduledWindow");
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "minimal", Duration::from_secs(60));
    assert!(jiff::Timestamp::now() >= end, "not before the window ends");
    let told = events(&ns, "minimal");
    for want in ["Normal ScheduledStart", "Normal ScheduledStop"] {
        assert!(told.contains(want), "{want:?} not in\n{told}");
    }
    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--timeout", "60s"]);
}
