//! Desired state: pure functions from a LiveStream to the AWS request bodies. No network here, so
//! every field the operator sends is unit-tested.

pub mod clip;
pub mod cloudfront;
pub mod encoder;
pub mod ingest;
pub mod medialive;
pub mod mediapackage;
pub mod mediapackagev2;
pub mod names;
pub mod overlay;
pub mod recording;
pub mod redundancy;
pub mod schedule;
pub mod srt;
pub mod website;

pub use names::{Names, owner_tags, tag};
