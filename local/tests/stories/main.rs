//! livestream-local's own stories: the emulator alone, no Kubernetes, driven by independent
//! clients (the AWS CLI, curl's SigV4, the operator's AWS SDK clients), real encoders and
//! ffprobe. `cargo test -p livestream-local` runs them (cargo builds the livestream-local binary
//! first); they need the tools hack/setup.sh installs (the AWS CLI, ffmpeg, GStreamer, curl).
//!
//! - [`aws_cli`]: the AWS CLI drives the whole lifecycle, waiters included, and publishes a page.
//! - [`fidelity`]: the catalogue of wrong requests refused in AWS's words; recordings into S3.
//! - [`local_api`]: MediaLive and MediaPackage through the SDK, every refusal, throttling and faults.
//! - [`local_media`]: a pushed test pattern plays as two-rendition HLS; intruders are refused.
//! - [`redundancy`]: STANDARD pipelines and automatic input failover, read back by colour.
//! - [`encoders`]: ffmpeg, GStreamer's librtmp and rtmp2 sinks each publish a stream that plays.
//! - [`srt`]: SRT listener and caller inputs, the passphrase in Secrets Manager; its refusals.
//! - [`dry_run`]: DryRun and engine versions through the AWS CLI: checked as the real call, no effect.
//! - [`hevc`]: an H.265 rendition beside an H.264 one streams HEVC; every member described back.

mod support;

mod aws_cli;
mod dry_run;
mod encoders;
mod fidelity;
mod hevc;
mod local_api;
mod local_media;
mod redundancy;
mod srt;
