//! `kubectl livestream …`: the operator's binary run under the name `kubectl-livestream` (a
//! symlink on PATH is enough for kubectl's plugin discovery). It reads and patches LiveStreams with
//! the user's kubeconfig and, for thumbnails, calls MediaLive with the user's AWS credentials.

mod render;
mod screen;

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use k8s_openapi::{api::core::v1::Secret, jiff::Timestamp};
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};

use crate::{
    api::{LiveStream, condition_type},
    aws::{AwsClients, AwsSettings, alerts},
    desired::ingest::server_part,
};

pub use screen::status as status_screen;

/// The name kubectl's plugin discovery runs.
pub const BINARY_NAME: &str = "kubectl-livestream";

#[derive(Parser)]
#[command(
    name = "kubectl livestream",
    version,
    about = "Run live events with LiveStream resources"
)]
struct Cli {
    /// Namespace of the LiveStream (default: the kubeconfig context's).
    #[arg(short, long, global = true)]
    namespace: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One screen: state, URLs, input, alerts, running since, time billed, next start and stop.
    Status { name: String },
    /// The OBS settings: Server and Stream Key (read from the stream-key Secret if you may).
    Obs { name: String },
    /// Set spec.running to true.
    Start { name: String },
    /// Set spec.running to false.
    Stop { name: String },
    /// Save the latest thumbnail of the channel's input (MediaLive DescribeThumbnails, with your
    /// AWS credentials).
    Thumbnail {
        name: String,
        /// Where to write the JPEG.
        #[arg(short, long, default_value = "thumbnail.jpg")]
        output: PathBuf,
        /// MediaLive endpoint (livestream-local's URL); default: AWS_ENDPOINT_URL, else AWS.
        #[arg(long, env = "AWS_ENDPOINT_URL")]
        aws_endpoint_url: Option<String>,
        /// AWS region; default: the SDK's chain.
        #[arg(long, env = "AWS_REGION")]
        aws_region: Option<String>,
    },
    /// Print the CreateChannel request the operator sends for the stream (the ladder,
    /// the recording and spec.encoding.overrides applied), as `aws medialive create-channel
    /// --cli-input-json` takes it.
    Render {
        name: String,
        /// Print the HTTP body instead (POST /prod/channels), in MediaLive's wire names.
        #[arg(long)]
        wire: bool,
        /// The operator's --medialive-role-arn, for a stream without spec.roleArn.
        #[arg(long)]
        role_arn: Option<String>,
        /// The operator's --recording-bucket, for a recording without spec.recording.bucket.
        #[arg(long)]
        recording_bucket: Option<String>,
    },
    /// Wait until the stream reaches a phase.
    Wait {
        name: String,
        #[arg(long = "for", value_enum)]
        phase: Phase,
        /// Give up after this long, e.g. 90s or 10m.
        #[arg(long, default_value = "10m")]
        timeout: kube::core::Duration,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Phase {
    /// Every AWS resource matches the spec.
    Ready,
    /// The channel is RUNNING.
    Running,
    /// Running, and an encoder is pushing to it.
    Live,
    /// The channel is not running.
    Stopped,
}

impl Phase {
    fn reached(self, stream: &LiveStream) -> bool {
        let status = stream.status.clone().unwrap_or_default();
        let is = |kind: &str| (status.conditions.iter()).any(|c| c.type_ == kind && c.status == "True");
        let current = status.observed_generation == stream.metadata.generation;
        let running = status.state.as_deref() == Some("RUNNING");
        match self {
            Phase::Ready => current && is(condition_type::READY),
            Phase::Running => running,
            Phase::Live => running && is(condition_type::INPUT_CONNECTED),
            // Stopped for good: IDLE (or no channel), not on the way there.
            Phase::Stopped => {
                current
                    && is(condition_type::STOPPED)
                    && matches!(status.state.as_deref(), None | Some("IDLE" | "Pending"))
            }
        }
    }
}

/// Runs the plugin with these arguments (the first is the program name).
pub async fn main(args: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let cli = Cli::parse_from(args);
    let client = Client::try_default().await.context("no usable kubeconfig")?;
    let namespace = cli.namespace.unwrap_or_else(|| client.default_namespace().to_owned());
    let streams: Api<LiveStream> = Api::namespaced(client.clone(), &namespace);
    let get = |name: String| {
        let streams = streams.clone();
        let namespace = namespace.clone();
        async move {
            streams
                .get(&name)
                .await
                .with_context(|| format!("LiveStream {namespace}/{name}"))
        }
    };
    match cli.command {
        Command::Status { name } => print!("{}", screen::status(&get(name).await?, Timestamp::now())),
        Command::Obs { name } => {
            let stream = get(name).await?;
            let secrets: Api<Secret> = Api::namespaced(client, &namespace);
            print!("{}", obs(&stream, &secrets).await?);
        }
        Command::Render {
            name,
            wire,
            role_arn,
            recording_bucket,
        } => {
            let defaults = render::Defaults {
                role_arn: role_arn.as_deref(),
                recording_bucket: recording_bucket.as_deref(),
            };
            let request = render::request(&get(name).await?, &defaults).map_err(|e| anyhow!(e))?;
            let request = if wire {
                crate::desired::overlay::request_to_wire(&request)
            } else {
                request
            };
            println!("{}", serde_json::to_string_pretty(&request)?);
        }
        Command::Start { name } => set_running(&streams, &name, true).await?,
        Command::Stop { name } => set_running(&streams, &name, false).await?,
        Command::Thumbnail {
            name,
            output,
            aws_endpoint_url,
            aws_region,
        } => {
            let stream = get(name.clone()).await?;
            let status = stream.status.unwrap_or_default();
            let channel = (status.aws.and_then(|a| a.channel_id))
                .ok_or_else(|| anyhow!("LiveStream {namespace}/{name} has no MediaLive channel yet"))?;
            let aws = AwsClients::load(&AwsSettings {
                endpoint_url: aws_endpoint_url,
                region: aws_region,
            })
            .await;
            let (jpeg, at) = alerts::thumbnail(&aws, &channel).await?.ok_or_else(|| {
                anyhow!("MediaLive has no thumbnail of channel {channel} yet: is an encoder pushing?")
            })?;
            std::fs::write(&output, &jpeg).with_context(|| format!("writing {}", output.display()))?;
            println!(
                "{}: JPEG, {} bytes, taken {}",
                output.display(),
                jpeg.len(),
                at.unwrap_or_else(|| "at an unknown time".into())
            );
        }
        Command::Wait { name, phase, timeout } => {
            let wait = kube::runtime::wait::await_condition(streams, &name, move |s: Option<&LiveStream>| {
                s.is_some_and(|s| phase.reached(s))
            });
            match tokio::time::timeout(Duration::from(timeout), wait).await {
                Ok(done) => {
                    done?;
                    println!("livestream.media.livestream.io/{name} condition met");
                }
                Err(_) => bail!("timed out waiting for {namespace}/{name}"),
            }
        }
    }
    Ok(())
}

async fn set_running(streams: &Api<LiveStream>, name: &str, running: bool) -> anyhow::Result<()> {
    let stream = streams.get(name).await.with_context(|| format!("LiveStream {name}"))?;
    if stream.spec.running == running {
        // A patch that changes nothing changes nothing: say what holds the channel instead.
        let status = stream.status.unwrap_or_default();
        let (verb, other) = if running { ("start", "stop") } else { ("stop", "start") };
        let why = match (&status.guard_stop, &status.schedule) {
            (Some(guard), _) if running => format!("a cost guard ({}) holds the channel stopped", guard.reason),
            (_, Some(_)) => "the schedule decides until spec.running changes".to_owned(),
            _ => format!("the channel is {}", status.state.as_deref().unwrap_or("Pending")),
        };
        bail!(
            "spec.running is already {running}: {why}; to {verb} it now, run `kubectl livestream {other} {name}` then `kubectl livestream {verb} {name}`"
        );
    }
    let patch = serde_json::json!({ "spec": { "running": running } });
    streams
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| format!("patching LiveStream {name}"))?;
    println!("livestream.media.livestream.io/{name} running: {running}");
    Ok(())
}

/// OBS's two fields: Server (`rtmp://host:1935/app`) and Stream Key; for a stream with several
/// legs (two pipelines, a backup input), the two fields of each encoder's push.
async fn obs(stream: &LiveStream, secrets: &Api<Secret>) -> anyhow::Result<String> {
    let status = stream.status.clone().unwrap_or_default();
    let url = status
        .ingest_url
        .ok_or_else(|| anyhow!("the input has no URL yet (status.ingestUrl is empty)"))?;
    let (server, key) = match &stream.spec.input.stream_key_secret_ref {
        None => {
            let server = server_part(&url).ok_or_else(|| anyhow!("unexpected ingest URL {url}"))?;
            let key = url[server.len() + 1..].to_owned();
            (server, key)
        }
        Some(reference) => {
            let secret = match secrets.get(&reference.name).await {
                Ok(secret) => secret,
                Err(kube::Error::Api(e)) if e.code == 403 => bail!(
                    "Server: {url}\nStream Key: in Secret {} (key {}), which you may not read: {}",
                    reference.name,
                    reference.key,
                    e.message
                ),
                Err(e) => return Err(e).with_context(|| format!("reading Secret {}", reference.name)),
            };
            let value = (secret.data.unwrap_or_default().remove(&reference.key))
                .ok_or_else(|| anyhow!("Secret {} has no key {}", reference.name, reference.key))?;
            (url, String::from_utf8_lossy(&value.0).trim().to_owned())
        }
    };
    if status.ingest.len() <= 1 {
        return Ok(format!("Server:     {server}\nStream Key: {key}\n"));
    }
    // Every push has the same key; the server differs per input and pipeline.
    let mut out = String::new();
    for point in &status.ingest {
        let server = server_part(&point.url).unwrap_or_else(|| point.url.clone());
        let live = match point.active {
            Some(true) => " (live)",
            _ => "",
        };
        out += &format!(
            "{} input, pipeline {}{live}:\n  Server:     {server}\n  Stream Key: {key}\n",
            point.input, point.pipeline
        );
    }
    Ok(out)
}
