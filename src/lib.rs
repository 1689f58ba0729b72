//! livestream-operator: a Kubernetes operator that turns `LiveStream` resources into live video
//! channels on AWS Elemental MediaLive + MediaPackage.
//!
//! - [`api`] — the CRD types (spec, status, conditions) and the generated CRD.
//! - [`desired`] — pure builders of the AWS requests from a spec.
//! - [`aws`] — the AWS I/O seam: SDK clients for AWS or livestream-local.
//! - [`controller`] — the reconcile loop.
//! - [`telemetry`] — logging.

pub mod api;
pub mod aws;
pub mod controller;
pub mod desired;
pub mod telemetry;
