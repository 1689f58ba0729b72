//! Command-line flags (each also an environment variable).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};

// Each service's quotas from its own leaf `quotas` module: config holds plain data and reaches
// no service's state (services import config, so anything more would close a circle).
use crate::{
    cloudfront::quotas::Quotas as CloudFrontQuotas,
    faults::FaultConfig,
    medialive::quotas::Quotas as MediaLiveQuotas,
    medialive::versions::{self as engine_versions, EngineVersions},
    mediapackage::quotas::Quotas as MediaPackageQuotas,
    mediapackagev2::quotas::Quotas as MediaPackageV2Quotas,
};

#[derive(Parser, Clone, Debug)]
#[command(
    name = "livestream-local",
    version,
    about = "A local AWS media cloud (MediaLive + MediaPackage + S3 subset) whose channels really stream.\n\
             Point AWS SDKs and the AWS CLI at it with AWS_ENDPOINT_URL=http://<listen>."
)]
pub struct Config {
    /// Address of the API endpoint (MediaLive, MediaPackage and S3 on one port, told apart by the
    /// SigV4 service name) and of the HLS origin and public S3 objects.
    #[arg(long, env = "LIVESTREAM_LOCAL_LISTEN", default_value = "127.0.0.1:4580")]
    pub listen: SocketAddr,

    /// Host name put into the URLs the services hand out (ingest, playback).
    #[arg(long, env = "LIVESTREAM_LOCAL_PUBLIC_HOST", default_value = "127.0.0.1")]
    pub public_host: String,

    /// botocore's `data` folder, which holds AWS's service models (`<service>/<version>/
    /// service-2.json.gz`); unset: the botocore that `python3` imports.
    #[arg(long, env = "LIVESTREAM_LOCAL_MODELS")]
    pub models: Option<PathBuf>,

    /// Directory for HLS output and S3 objects.
    #[arg(long, env = "LIVESTREAM_LOCAL_DATA_DIR", default_value = "/tmp/livestream-local")]
    pub data_dir: PathBuf,

    /// First RTMP port handed to inputs (the next free one above it is used); 0 = any free port.
    #[arg(long, env = "LIVESTREAM_LOCAL_RTMP_PORT", default_value_t = 1935)]
    pub rtmp_port: u16,

    /// The ffmpeg binary that encodes running channels.
    #[arg(long, env = "LIVESTREAM_LOCAL_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,

    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,

    #[arg(long, env = "LIVESTREAM_LOCAL_ACCOUNT_ID", default_value = "123456789012")]
    pub account_id: String,

    /// Access keys and their IAM policies (JSON: `{"keys": [{"accessKeyId", "secretAccessKey",
    /// "sessionToken", "expiration", "user", "policy" | "policyFile"}]}`); unset: the one key
    /// `local` / `local`, with every action allowed.
    #[arg(long, env = "LIVESTREAM_LOCAL_CREDENTIALS")]
    pub credentials: Option<PathBuf>,

    /// Seconds a CloudFront distribution stays `InProgress` after each create or update before it
    /// is `Deployed` (minutes on AWS).
    #[arg(long, env = "LIVESTREAM_LOCAL_CLOUDFRONT_DEPLOY_SECONDS", default_value_t = 3.0)]
    pub cloudfront_deploy_seconds: f64,

    /// How long transitions take, in milliseconds (AWS takes minutes; the defaults keep demos brisk).
    #[command(flatten)]
    pub delays: Delays,

    /// Per-operation rate limit, OPERATION=CALLS_PER_SECOND ("*" for all); repeatable.
    #[arg(long = "throttle", env = "LIVESTREAM_LOCAL_THROTTLE", value_delimiter = ',', value_parser = FaultConfig::parse_throttle)]
    pub throttle: Vec<(String, f64)>,

    /// Fraction of API calls that fail with a 500 (0–1).
    #[arg(long, env = "LIVESTREAM_LOCAL_ERROR_RATE", default_value_t = 0.0)]
    pub error_rate: f64,

    /// Latency added to every API call, in milliseconds.
    #[arg(long, env = "LIVESTREAM_LOCAL_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// How long a new MediaPackage channel stays invisible to MediaLive, in milliseconds.
    #[arg(long, env = "LIVESTREAM_LOCAL_CONSISTENCY_DELAY_MS", default_value_t = 0)]
    pub consistency_delay_ms: u64,

    /// MediaPackage v2's soft quotas, AWS's defaults unless raised (as one asks AWS to):
    /// channel groups per account, channels per channel group, origin endpoints per channel and
    /// manifests per origin endpoint.
    #[arg(
        long,
        env = "LIVESTREAM_LOCAL_MEDIAPACKAGEV2_QUOTAS",
        default_value_t = MediaPackageV2Quotas::default(),
        value_parser = MediaPackageV2Quotas::parse
    )]
    pub mediapackagev2_quotas: MediaPackageV2Quotas,

    /// MediaLive's soft quotas per account and Region, AWS's defaults unless raised (as one asks
    /// AWS to): channels, push inputs (outside and in a VPC), pull inputs and input security groups
    /// (any subset).
    #[arg(
        long,
        env = "LIVESTREAM_LOCAL_MEDIALIVE_QUOTAS",
        default_value_t = MediaLiveQuotas::default(),
        value_parser = MediaLiveQuotas::parse
    )]
    pub medialive_quotas: MediaLiveQuotas,

    /// MediaLive's channel engine versions, as ListVersions lists them:
    /// `VERSION=EXPIRY[,...]`, EXPIRY an RFC 3339 time or `+Nd` (midnight UTC N days after start).
    /// A channel that names no version runs the one that expires last.
    #[arg(
        long,
        env = "LIVESTREAM_LOCAL_MEDIALIVE_ENGINE_VERSIONS",
        default_value = engine_versions::DEFAULT,
        value_parser = EngineVersions::parse
    )]
    pub medialive_engine_versions: EngineVersions,

    /// CloudFront's soft quotas, AWS's defaults unless raised: distributions and origin access
    /// controls per account, distributions per origin access control, and the origin read and
    /// keep-alive timeouts' upper bound in seconds.
    #[arg(
        long,
        env = "LIVESTREAM_LOCAL_CLOUDFRONT_QUOTAS",
        default_value_t = CloudFrontQuotas::default(),
        value_parser = CloudFrontQuotas::parse
    )]
    pub cloudfront_quotas: CloudFrontQuotas,

    /// MediaPackage (v1)'s soft quotas, AWS's defaults unless raised: channels per account and
    /// origin endpoints per channel.
    #[arg(
        long,
        env = "LIVESTREAM_LOCAL_MEDIAPACKAGE_QUOTAS",
        default_value_t = MediaPackageQuotas::default(),
        value_parser = MediaPackageQuotas::parse
    )]
    pub mediapackage_quotas: MediaPackageQuotas,

    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Clone, Debug)]
pub struct Delays {
    #[arg(long, env = "LIVESTREAM_LOCAL_CHANNEL_CREATE_MS", default_value_t = 1000)]
    pub channel_create_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_CHANNEL_START_MS", default_value_t = 2000)]
    pub channel_start_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_CHANNEL_STOP_MS", default_value_t = 1000)]
    pub channel_stop_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_CHANNEL_UPDATE_MS", default_value_t = 500)]
    pub channel_update_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_CHANNEL_DELETE_MS", default_value_t = 1000)]
    pub channel_delete_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_INPUT_CREATE_MS", default_value_t = 500)]
    pub input_create_ms: u64,
    #[arg(long, env = "LIVESTREAM_LOCAL_INPUT_DELETE_MS", default_value_t = 500)]
    pub input_delete_ms: u64,
}

impl Delays {
    pub fn of(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }
}

impl Config {
    pub fn faults(&self) -> FaultConfig {
        FaultConfig {
            throttle: self.throttle.iter().cloned().collect(),
            error_rate: self.error_rate,
            latency_ms: self.latency_ms,
            consistency_delay_ms: self.consistency_delay_ms,
            hold_after_mutations: None,
        }
    }

    /// Base URL of the HTTP endpoint as clients should reach it.
    pub fn public_url(&self) -> String {
        format!("http://{}", self.public_authority())
    }

    /// The host and port of [`Self::public_url`] (MediaPackage v2's egress domain).
    pub fn public_authority(&self) -> String {
        format!("{}:{}", self.public_host, self.listen.port())
    }

    pub fn arn(&self, service: &str, kind: &str, id: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{kind}:{id}", self.region, self.account_id)
    }
}
