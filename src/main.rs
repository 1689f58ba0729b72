#![recursion_limit = "256"]
//! `livestream-operator`: the command line.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use livestream_operator::{
    api::{self, DeliveryMode, PackagingVersion},
    aws::{AwsClients, AwsSettings},
    controller::{self, Settings},
    leader::{Leadership, LeaseSettings},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "livestream-operator",
    version,
    about = "Runs LiveStream resources as AWS Elemental MediaLive + MediaPackage channels"
)]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value_t, global = true, env = "LOG_FORMAT")]
    log_format: telemetry::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller against the cluster of the current kubeconfig (or in-cluster config).
    Run(Box<RunArgs>),
    /// Print the LiveStream CustomResourceDefinition as YAML.
    Crd,
    /// Print a generated reference page of the docs site as Markdown (docs/generate.sh writes them
    /// all).
    Docs {
        #[arg(value_enum)]
        page: DocsPage,
    },
}

/// The generated pages under docs/src/reference/.
#[derive(Clone, Copy, clap::ValueEnum)]
enum DocsPage {
    /// The LiveStream fields, from the CRD's schema.
    Livestream,
    /// The LiveStreamClip fields, from the CRD's schema.
    Livestreamclip,
    /// The flags of `livestream-operator run`, from their definitions.
    Flags,
}

impl DocsPage {
    fn render(self) -> String {
        match self {
            DocsPage::Livestream => livestream_operator::docs::crd_reference(&api::crd()),
            DocsPage::Livestreamclip => livestream_operator::docs::crd_reference(&api::clip_crd()),
            DocsPage::Flags => {
                use clap::CommandFactory;
                let cli = Cli::command();
                let run = cli.find_subcommand("run").expect("run is a subcommand");
                livestream_operator::docs::flags(run, &cli, "livestream-operator run")
            }
        }
    }
}

#[derive(Args)]
struct RunArgs {
    /// One endpoint for MediaLive, MediaPackage and S3, e.g. livestream-local's
    /// http://127.0.0.1:4580. Unset: real AWS.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,

    /// AWS region (default: the SDK's region chain, AWS_REGION / profile).
    #[arg(long, env = "AWS_REGION")]
    aws_region: Option<String>,

    /// IAM role MediaLive assumes, for LiveStreams without spec.roleArn.
    #[arg(long, env = "LIVESTREAM_MEDIALIVE_ROLE_ARN")]
    medialive_role_arn: Option<String>,

    /// MediaPackage version of new LiveStreams that set no spec.packaging.version (v1 or v2). A
    /// stream that already owns MediaPackage resources keeps their version whatever this says.
    #[arg(long, env = "LIVESTREAM_PACKAGING_VERSION", default_value = "v2", value_parser = parse_version)]
    packaging_version: PackagingVersion,

    /// S3 bucket for the recordings of LiveStreams with spec.recording.enabled that name none
    /// (created if missing; MediaLive's role writes to it).
    #[arg(long, env = "LIVESTREAM_RECORDING_BUCKET")]
    recording_bucket: Option<String>,

    /// How new LiveStreams that set no spec.delivery.mode reach viewers: CloudFront (a
    /// distribution per stream; the player bucket stays private) or Direct (the origin's URLs and
    /// a public page). A stream that already has URLs keeps its mode whatever this says.
    #[arg(long, env = "LIVESTREAM_DELIVERY", default_value = "CloudFront", value_parser = parse_delivery)]
    delivery: DeliveryMode,

    /// MediaPackage v2 channel group of LiveStreams that name none (created if missing).
    #[arg(long, env = "LIVESTREAM_CHANNEL_GROUP", default_value = "livestream")]
    channel_group: String,

    /// Address for /metrics, /healthz and /readyz (port 0: any free port); unset: not served.
    #[arg(long, env = "LIVESTREAM_HTTP_ADDR")]
    http_addr: Option<std::net::SocketAddr>,

    /// S3 bucket for the player pages of LiveStreams that name none (created if missing; private
    /// behind CloudFront, and it must allow public bucket policies for delivery Direct). Unset:
    /// only LiveStreams with spec.website.bucket get a page.
    #[arg(long, env = "LIVESTREAM_WEBSITE_BUCKET")]
    website_bucket: Option<String>,

    /// Elect a leader through a Lease: only the holder reconciles (run two replicas for
    /// availability).
    #[arg(long, env = "LIVESTREAM_LEADER_ELECTION")]
    leader_election: bool,

    /// Namespace of the Lease (default: the pod's namespace, else livestream-system).
    #[arg(long, env = "POD_NAMESPACE", default_value = "livestream-system")]
    lease_namespace: String,

    /// Name of the Lease.
    #[arg(long, default_value = "livestream-operator")]
    lease_name: String,

    /// How long a lease holder that stops renewing keeps the lease.
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,

    /// Renew this long before the lease would expire.
    #[arg(long, default_value_t = 5)]
    lease_grace_seconds: u64,

    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,

    /// The operator's ServiceAccount as `namespace:name`, for the commands that conditions give
    /// namespaces to let it read a stream-key Secret.
    #[arg(
        long,
        env = "LIVESTREAM_SERVICE_ACCOUNT",
        default_value = "livestream-system:livestream-operator"
    )]
    service_account: String,

    /// Seconds between re-reads of a stable stream's AWS state (drift detection).
    #[arg(long, env = "LIVESTREAM_RESYNC_SECONDS", default_value_t = 300)]
    resync_seconds: u64,

    /// Seconds a resource's last full read (Describe/Get) serves while account-wide listings show
    /// it unchanged: how soon drift that no listing shows (a channel's encoder settings, an
    /// origin endpoint's segments) is seen. Listings still catch deletions and state every resync.
    #[arg(long, env = "LIVESTREAM_FULL_READ_SECONDS", default_value_t = 3600)]
    full_read_seconds: u64,

    /// Reconciles in flight at once. AWS's rate limits, not this, set the pace: more only hold more
    /// memory while their calls wait for the client's token bucket.
    #[arg(long, env = "LIVESTREAM_MAX_CONCURRENT_RECONCILES", default_value_t = 32)]
    max_concurrent_reconciles: u16,

    /// Seconds between re-reads while AWS carries out a change (a channel starting, stopping …).
    #[arg(long, env = "LIVESTREAM_TRANSITION_REQUEUE_SECONDS", default_value_t = 5.0)]
    transition_requeue_seconds: f64,

    /// Seconds between health reads (MediaLive ListAlerts) of a running channel: how soon a lost
    /// input shows in status, one call per running channel each time.
    #[arg(long, env = "LIVESTREAM_HEALTH_SECONDS", default_value_t = 30.0)]
    health_seconds: f64,
}

fn parse_version(value: &str) -> Result<PackagingVersion, String> {
    match value {
        "v1" => Ok(PackagingVersion::V1),
        "v2" => Ok(PackagingVersion::V2),
        other => Err(format!("{other:?} is not a MediaPackage version: v1 or v2")),
    }
}

fn parse_delivery(value: &str) -> Result<DeliveryMode, String> {
    match value {
        "CloudFront" | "cloudfront" => Ok(DeliveryMode::CloudFront),
        "Direct" | "direct" => Ok(DeliveryMode::Direct),
        other => Err(format!("{other:?} is not a delivery mode: CloudFront or Direct")),
    }
}

/// glibc's allocator, tuned for a process that parses large AWS listings now and then: a fixed
/// mmap threshold (glibc raises it after each freed large buffer, after which megabyte answers
/// land in the heap and stay resident) and one arena (the operator uses a tenth of a core: lock
/// contention costs nothing, a second heap's high-water mark does). At 1,000 streams the peak RSS
/// went from 86 to 63 MiB with a fixed threshold, two arenas and CloudFront listings in pages of
/// 100, and from 64.5 to 59.6 MiB with one arena (hack/bench-scale.sh).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> anyhow::Result<()> {
    tune_allocator();
    // A pass polls many SDK futures; a debug build keeps their temporaries in each poll's stack
    // frame, and tokio's default 2 MiB per worker once overflowed. 8 MiB is address space, not
    // resident memory.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    // Installed as `kubectl-livestream` (a symlink will do), the binary is the kubectl plugin.
    let program = std::env::args().next().unwrap_or_default();
    if std::path::Path::new(&program).file_name()
        == Some(std::ffi::OsStr::new(livestream_operator::plugin::BINARY_NAME))
    {
        return livestream_operator::plugin::main(std::env::args()).await;
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", api::crd_yaml());
            Ok(())
        }
        Command::Docs { page } => {
            print!("{}", page.render());
            Ok(())
        }
        Command::Run(args) => {
            telemetry::init(cli.log_format);
            let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            if let Some(addr) = args.http_addr {
                livestream_operator::server::serve(addr, ready.clone()).await?;
            }
            let client = kube::Client::try_default().await?;
            controller::preflight(&client, args.namespace.as_deref()).await?;
            ready.store(true, std::sync::atomic::Ordering::Relaxed);
            let aws = AwsClients::load(&AwsSettings {
                endpoint_url: args.aws_endpoint_url,
                region: args.aws_region,
            })
            .await;
            livestream_operator::aws::health::spawn_probe(aws.clone());
            let settings = Settings {
                role_arn: args.medialive_role_arn,
                resync: Duration::from_secs(args.resync_seconds),
                full_read: Duration::from_secs(args.full_read_seconds),
                transition_requeue: Duration::from_secs_f64(args.transition_requeue_seconds),
                health_interval: Duration::from_secs_f64(args.health_seconds),
                website_bucket: args.website_bucket,
                service_account: args.service_account,
                concurrency: args.max_concurrent_reconciles,
                packaging_version: args.packaging_version,
                channel_group: args.channel_group,
                delivery: args.delivery,
                recording_bucket: args.recording_bucket,
            };
            let leadership = if args.leader_election {
                let identity =
                    std::env::var("POD_NAME").unwrap_or_else(|_| format!("livestream-operator-{}", std::process::id()));
                let lease = LeaseSettings {
                    namespace: args.lease_namespace,
                    name: args.lease_name,
                    identity,
                    duration_seconds: args.lease_duration_seconds,
                    grace_seconds: args.lease_grace_seconds,
                };
                Some(Leadership::join(client.clone(), &lease).await?)
            } else {
                None
            };
            controller::run(client, aws, settings, args.namespace.as_deref(), leadership).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/src/reference/flags.md is what `livestream-operator docs flags` prints now.
    #[test]
    fn docs_flags_reference_is_committed() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/reference/flags.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == DocsPage::Flags.render(),
            "docs/src/reference/flags.md is stale or missing: regenerate it with `{}` and commit it",
            livestream_operator::docs::REGENERATE
        );
    }
}
