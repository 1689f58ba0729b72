//! livestream-local: an AWS-API-compatible local media cloud. MediaLive, MediaPackage (v1 and v2)
//! and S3 (the subset livestream-operator uses) on one loopback port; running channels really
//! stream: an RTMP front door per input, a supervised ffmpeg ladder per channel and an HLS origin
//! per endpoint.
//!
//! - [`medialive`], [`mediapackage`], [`mediapackagev2`], [`s3`], [`cloudfront`],
//!   [`secretsmanager`]: the APIs, each
//!   owning its state (CloudFront's distributions each with a real caching edge on its own port).
//! - [`media`]: RTMP ingest, transcoding and HLS packaging.
//! - [`services`]: the [`services::Service`] each API registers (its signing name, calls, unsigned
//!   paths, reset and metrics) and what they share; [`chain`]: the REST-JSON chain (faults,
//!   signature and IAM, model) a REST-JSON service's calls run through; [`protocol`]: the toolkit.
//! - [`http`]: one endpoint that routes requests by their SigV4 service through the registry; the
//!   admin API.
//! - [`serve`]: the HTTP listeners' connection cap and header deadline.
//! - [`faults`]: throttling, error and latency injection, call counters.

mod auth;
mod chain;
mod cloudfront;
mod config;
mod destinations;
mod faults;
#[cfg(test)]
mod fuzz;
mod http;
mod iam;
mod lifecycle;
mod media;
mod medialive;
mod mediapackage;
mod mediapackagev2;
mod model;
mod protocol;
mod quota_flags;
mod s3;
mod secretsmanager;
mod serve;
mod services;

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tracing::info;

use crate::{
    config::Config,
    faults::Faults,
    media::Media,
    medialive::MediaLive,
    mediapackage::MediaPackage,
    mediapackagev2::MediaPackageV2,
    s3::S3,
    services::{Registry, Shared},
};

/// Everything the local cloud serves: the registered services and what they share.
pub struct Cloud {
    pub shared: Shared,
    pub services: Registry,
}

/// The cloud, and MediaLive by name for what only `main` does with it (the alert watch, stopping
/// encoders at shutdown).
fn build(config: &Config) -> anyhow::Result<(Cloud, MediaLive)> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let faults = Arc::new(Faults::new(config.faults()));
    let media = Media::new(config.data_dir.clone(), config.ffmpeg.clone());
    let mediapackage = MediaPackage::new(config.clone(), faults.clone(), media.clone());
    let specs = [
        cloudfront::MODEL,
        medialive::MODEL,
        mediapackage::MODEL,
        mediapackagev2::MODEL,
        s3::MODEL,
        secretsmanager::MODEL,
    ];
    let models = model::Models::load(config.models.as_deref(), &specs)?;
    let mediapackagev2 = MediaPackageV2::new(
        config.clone(),
        models.shared("mediapackagev2").context("the mediapackagev2 model")?,
    );
    let keys = Arc::new(auth::Keys::load(config.credentials.as_deref(), &config.account_id)?);
    let secrets = secretsmanager::SecretsManager::new(config.clone(), keys.clone());
    let medialive = MediaLive::new(
        config.clone(),
        media.clone(),
        Arc::new(mediapackage.clone()),
        Arc::new(mediapackagev2.clone()),
        Arc::new(secrets.clone()),
    );
    let identity = s3::Identity {
        region: config.region.clone(),
        account_id: config.account_id.clone(),
        keys: keys.clone(),
        model: models.shared("s3"),
    };
    let s3 = S3::new(config.data_dir.join("s3"), identity)?;
    let cloudfront = cloudfront::CloudFront::new(config.clone(), keys.service_principal());
    media.set_object_store(Arc::new(s3.clone()));
    mediapackagev2.attach_harvest_sink(mediapackagev2::HarvestSink {
        media: media.clone(),
        store: Arc::new(s3.clone()),
    });
    tracing::info!(operations = models.operations(), "service models loaded");
    // The order unsigned requests are offered in: v2's origin endpoints before v1's (which
    // answers every other `/out/v1/` path), S3's public objects last (it takes the rest).
    let services = Registry::new(vec![
        Arc::new(medialive.clone()),
        Arc::new(mediapackagev2),
        Arc::new(mediapackage),
        Arc::new(cloudfront),
        Arc::new(secrets),
        Arc::new(s3),
    ]);
    let routing = services.routing(&models);
    let shared = Shared {
        faults,
        keys,
        models,
        routing,
        media,
        region: config.region.clone(),
        account_id: config.account_id.clone(),
    };
    Ok((Cloud { shared, services }, medialive))
}

impl Cloud {
    /// Forgets every resource and fault (the admin API's reset), stopping media processes.
    pub async fn reset(&self) {
        for service in self.services.iter() {
            service.reset().await;
        }
        self.shared.faults.reset();
    }
}

fn init_logging(format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => builder.init(),
        config::LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::parse();
    init_logging(config.log_format);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    // With port 0 the URLs handed out must carry the port actually bound.
    config.listen = listener.local_addr()?;
    let (cloud, medialive) = build(&config)?;
    let cloud = Arc::new(cloud);
    medialive.spawn_alert_watch();
    info!(endpoint = %config.public_url(), data_dir = %config.data_dir.display(), "livestream-local ready");
    // A line on stdout that scripts and tests wait for.
    println!("livestream-local listening on {}", config.public_url());
    serve::serve(listener, http::router(cloud.clone()), async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    })
    .await;
    // Stop encoders and close RTMP ports; S3 objects and HLS files stay on disk.
    medialive.reset();
    info!("livestream-local stopped");
    Ok(())
}
