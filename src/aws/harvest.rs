//! MediaPackage v2 harvest jobs: a clip's live-to-VOD job on its stream's HLS endpoint.

use std::collections::HashMap;

use aws_sdk_mediapackagev2::types::{
    Destination, HarvestedHlsManifest, HarvestedManifests, HarvesterScheduleConfiguration, S3DestinationConfig,
};
use aws_smithy_types::DateTime;

use super::AwsClients;
use crate::error::{Error, Result};

/// Where a job runs and what it cuts.
pub struct JobRequest<'a> {
    pub group: &'a str,
    pub channel: &'a str,
    pub endpoint: &'a str,
    pub manifest: &'a str,
    pub name: &'a str,
    pub start_seconds: i64,
    pub end_seconds: i64,
    pub bucket: &'a str,
    pub path: &'a str,
    /// Idempotency: a retried create returns the first job.
    pub client_token: &'a str,
}

/// A job's state, as GetHarvestJob reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub status: String,
    pub error_message: Option<String>,
    pub e_tag: Option<String>,
}

impl Job {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "FAILED" | "CANCELLED")
    }
}

pub async fn create(aws: &AwsClients, want: &JobRequest<'_>, tags: &HashMap<String, String>) -> Result<()> {
    let invalid = |e: aws_sdk_mediapackagev2::error::BuildError| Error::Invalid(format!("harvest job: {e}"));
    let manifests = HarvestedManifests::builder()
        .hls_manifests(
            HarvestedHlsManifest::builder()
                .manifest_name(want.manifest)
                .build()
                .map_err(invalid)?,
        )
        .build();
    let schedule = HarvesterScheduleConfiguration::builder()
        .start_time(DateTime::from_secs(want.start_seconds))
        .end_time(DateTime::from_secs(want.end_seconds))
        .build()
        .map_err(invalid)?;
    let s3 = S3DestinationConfig::builder()
        .bucket_name(want.bucket)
        .destination_path(want.path)
        .build()
        .map_err(invalid)?;
    let created = (aws.mediapackagev2.create_harvest_job())
        .channel_group_name(want.group)
        .channel_name(want.channel)
        .origin_endpoint_name(want.endpoint)
        .harvest_job_name(want.name)
        .client_token(want.client_token)
        .harvested_manifests(manifests)
        .schedule_configuration(schedule)
        .destination(Destination::builder().s3_destination(s3).build())
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .map_err(|e| Error::aws("CreateHarvestJob", e));
    match created {
        // Created by a pass that crashed before it saw the answer.
        Err(e) if e.code() == Some("ConflictException") => Ok(()),
        other => other.map(drop),
    }
}

pub async fn get(aws: &AwsClients, group: &str, channel: &str, endpoint: &str, name: &str) -> Result<Option<Job>> {
    let got = (aws.mediapackagev2.get_harvest_job())
        .channel_group_name(group)
        .channel_name(channel)
        .origin_endpoint_name(endpoint)
        .harvest_job_name(name)
        .send()
        .await
        .map_err(|e| Error::aws("GetHarvestJob", e));
    match got {
        Ok(job) => Ok(Some(Job {
            status: job.status.as_str().to_owned(),
            error_message: job.error_message,
            e_tag: job.e_tag,
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Cancels a job still queued or running; one already finished or gone is left as it is.
pub async fn cancel(aws: &AwsClients, group: &str, channel: &str, endpoint: &str, name: &str) -> Result<()> {
    let cancelled = (aws.mediapackagev2.cancel_harvest_job())
        .channel_group_name(group)
        .channel_name(channel)
        .origin_endpoint_name(endpoint)
        .harvest_job_name(name)
        .send()
        .await
        .map_err(|e| Error::aws("CancelHarvestJob", e));
    match cancelled {
        Err(e) if e.is_not_found() || e.code() == Some("ConflictException") => Ok(()),
        other => other.map(drop),
    }
}
