//! livestream-operator: a Kubernetes operator that turns `LiveStream` resources into live video
//! channels on AWS Elemental MediaLive + MediaPackage.
//!
//! - [`api`] — the CRD types (spec, status, conditions) and the generated CRD.
//! - [`controller`] — the reconcile loop.
//! - [`telemetry`] — logging.

pub mod api;
pub mod controller;
pub mod telemetry;
