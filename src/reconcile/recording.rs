//! The recording's side of a pass: the bucket exists before the channel writes to it, and status
//! lists the runs recorded so far (one `<prefix><start>/` each; they outlive the LiveStream).

use super::{Run, plan::Desired};
use crate::{
    aws::{Shared, s3},
    error::Result,
};

impl Run<'_> {
    /// Creates the recording bucket if missing, before the channel that writes to it.
    pub(super) async fn recording_bucket(&self, desired: &Desired) -> Result<()> {
        match &desired.recording {
            Some(r) => s3::Bucket::ensure(&self.ctx.aws, &r.bucket).await.map(drop),
            None => Ok(()),
        }
    }

    /// `status.recordings`: the run prefixes under the stream's prefix, oldest first (None: no
    /// recording, or nothing under its prefix).
    pub(super) async fn list_recordings(&self) -> Result<Option<Vec<String>>> {
        let Some(r) = &self.want.recording else {
            return Ok(None);
        };
        let Some(folders) = s3::folders(&self.ctx.aws, &r.bucket, &r.prefix).await? else {
            return Ok(None);
        };
        let mut runs: Vec<String> = folders.iter().map(|p| format!("s3://{}/{p}", r.bucket)).collect();
        runs.sort();
        Ok(Some(runs))
    }
}
