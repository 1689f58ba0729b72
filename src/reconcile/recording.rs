//! The recording's side of a pass: the bucket exists before the channel writes to it, and status
//! lists the runs recorded so far (one `<prefix><start>/` each; they outlive the LiveStream).

use super::{Run, plan::Desired};
use crate::{
    desired::recording::{self, Recording},
    error::{Error, Result},
};

impl Run<'_> {
    /// What `spec.recording` asks for; enabled without any bucket is reported, and the channel
    /// goes on without recording.
    pub(super) fn recording(&mut self) -> Option<Recording> {
        let wanted = recording::of(self.stream, self.ctx.settings.recording_bucket.as_deref());
        if wanted.is_none() && self.stream.spec.recording.enabled {
            self.deferred.get_or_insert(Error::Invalid(
                "spec.recording.enabled: no bucket to record to: set spec.recording.bucket or the operator's --recording-bucket".into(),
            ));
        }
        wanted
    }

    /// Creates the recording bucket if missing, before the channel that writes to it.
    pub(super) async fn recording_bucket(&self, desired: &Desired) -> Result<()> {
        match &desired.recording {
            Some(r) => super::website::ensure_bucket(&self.ctx.aws, &r.bucket).await,
            None => Ok(()),
        }
    }

    /// `status.recordings`: the run prefixes under the stream's prefix, oldest first.
    pub(super) async fn list_recordings(&mut self) -> Result<()> {
        let Some(r) = recording::of(self.stream, self.ctx.settings.recording_bucket.as_deref()) else {
            return Ok(());
        };
        let listed = (self.ctx.aws.s3.list_objects_v2())
            .bucket(&r.bucket)
            .prefix(&r.prefix)
            .delimiter("/")
            .send()
            .await;
        let listed = match listed.map_err(|e| Error::aws("ListObjectsV2", e)) {
            Ok(listed) => listed,
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut runs: Vec<String> = (listed.common_prefixes().iter())
            .filter_map(|p| p.prefix.as_deref())
            .map(|p| format!("s3://{}/{p}", r.bucket))
            .collect();
        runs.sort();
        self.status.recordings = runs;
        Ok(())
    }
}
