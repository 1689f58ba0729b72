//! A running channel as MediaLive watches it: its active alerts (ListAlerts) and the latest
//! thumbnail of its input (DescribeThumbnails). Read only; nothing here is managed.

use aws_sdk_medialive::types::ThumbnailType;
use aws_smithy_types::date_time::Format;

use super::{AwsClients, PAGE};
use crate::error::{Error, Result};

/// One alert in state SET.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub alert_type: String,
    pub message: String,
    pub pipeline_id: Option<String>,
    /// RFC 3339.
    pub set_at: Option<String>,
}

/// The alert types MediaLive raises when an RTMP push input receives nothing: no encoder is
/// connected, or it stopped sending ("Alerts for channels" in the MediaLive user guide).
const INPUT_LOSS: &[&str] = &[
    "RTMP Stream Not Found",
    "RTMP Has No Audio/Video",
    "RTMP Server Disconnected",
    "Video Not Detected",
    "Initial Probe is Taking Longer Than Expected",
];

impl Alert {
    /// This alert says that nothing reaches the input.
    pub fn is_input_loss(&self) -> bool {
        INPUT_LOSS.contains(&self.alert_type.as_str())
    }
}

/// The channel's alerts that are SET now, every page.
pub async fn active(aws: &AwsClients, channel_id: &str) -> Result<Vec<Alert>> {
    let mut alerts = Vec::new();
    let mut pages = aws
        .medialive
        .list_alerts()
        .channel_id(channel_id)
        .state_filter("SET")
        .max_results(PAGE.min(100))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::aws("ListAlerts", e))?;
        alerts.extend(page.alerts().iter().map(|a| Alert {
            alert_type: a.alert_type().unwrap_or_default().to_owned(),
            message: a.message().unwrap_or_default().to_owned(),
            pipeline_id: a.pipeline_id().map(str::to_owned),
            set_at: a.set_timestamp().and_then(|t| t.fmt(Format::DateTime).ok()),
        }));
    }
    Ok(alerts)
}

/// Each running pipeline's id and the input attachment it ingests now (DescribeChannel's
/// PipelineDetails): which input is live after a failover.
pub async fn active_inputs(aws: &AwsClients, channel_id: &str) -> Result<Vec<(String, Option<String>)>> {
    let described = aws.medialive.describe_channel().channel_id(channel_id).send().await;
    let channel = described.map_err(|e| Error::aws("DescribeChannel", e))?;
    Ok((channel.pipeline_details().iter())
        .map(|p| {
            let id = p.pipeline_id().unwrap_or("0").to_owned();
            (id, p.active_input_attachment_name().map(str::to_owned))
        })
        .collect())
}

/// The latest JPEG thumbnail of the channel's active input on pipeline 0, and when it was taken
/// (RFC 3339); None when MediaLive has none (the channel has not received video yet).
pub async fn thumbnail(aws: &AwsClients, channel_id: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
    let described = aws
        .medialive
        .describe_thumbnails()
        .channel_id(channel_id)
        .pipeline_id("0")
        .thumbnail_type(ThumbnailType::CurrentActive.as_str())
        .send()
        .await
        .map_err(|e| Error::aws("DescribeThumbnails", e))?;
    let latest = (described.thumbnail_details().iter())
        .flat_map(|d| d.thumbnails())
        .find_map(|t| Some((t.body()?, t.time_stamp())));
    let Some((body, at)) = latest else {
        return Ok(None);
    };
    let jpeg = aws_smithy_types::base64::decode(body).map_err(|e| Error::Aws {
        operation: "DescribeThumbnails",
        code: "InvalidThumbnail".into(),
        message: format!("the thumbnail body is not base64: {e}"),
        source: Some(Box::new(e)),
    })?;
    Ok(Some((jpeg, at.and_then(|t| t.fmt(Format::DateTime).ok()))))
}
