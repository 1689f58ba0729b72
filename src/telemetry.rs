//! Logging: human-readable by default, JSON lines for log pipelines.

use clap::ValueEnum;
use tracing::Level;
use tracing_subscriber::{EnvFilter, filter::filter_fn, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with span fields (the LiveStream) included.
    Json,
}

/// The AWS SDK traces whole request and response bodies (and SigV4 the signed body, with
/// LOG_SIGNABLE_BODY), and CreateInput / UpdateInput bodies hold the stream key: those events are
/// never logged, whatever RUST_LOG says.
const BODY_TRACING: [&str; 2] = ["aws_smithy_runtime::client::orchestrator", "aws_sigv4"];

/// Installs the global subscriber. `RUST_LOG` overrides the default level (info).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let no_bodies =
        filter_fn(|meta| !(*meta.level() == Level::TRACE && BODY_TRACING.iter().any(|t| meta.target().starts_with(t))));
    let registry = tracing_subscriber::registry().with(filter).with(no_bodies);
    let writer = fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Text => registry.with(writer).init(),
        LogFormat::Json => registry.with(writer.json().with_current_span(true)).init(),
    }
}
