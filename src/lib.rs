#![recursion_limit = "256"]
//! livestream-operator: a Kubernetes operator that turns `LiveStream` resources into live video
//! channels on AWS Elemental MediaLive + MediaPackage.
//!
//! - [`api`] — the CRD types (spec, status, conditions) and the generated CRD.
//! - [`desired`] — pure builders of the AWS requests from a spec.
//! - [`aws`] — the AWS I/O seam: SDK clients for AWS or livestream-local.
//! - [`reconcile`] — the pipeline for one LiveStream: observe, converge, tear down, status.
//! - [`controller`] — the watch loop: finalizer, requeue and backoff; [`leader`] — only the lease holder reconciles.
//! - [`error`] — what can fail, as conditions and metric labels.
//! - [`metrics`], [`server`] — Prometheus metrics, health and readiness over HTTP.
//! - [`docs`] — the generated reference pages of the docs site.
//! - [`telemetry`] — logging; [`plugin`] — `kubectl livestream`, the same binary under another name.

pub mod api;
pub mod aws;
pub mod clip;
pub mod context;
pub mod controller;
pub mod desired;
pub mod docs;
pub mod error;
pub mod leader;
pub mod metrics;
pub mod observe;
pub mod placement;
pub mod plugin;
pub mod reconcile;
pub mod resource;
pub mod server;
pub mod telemetry;
