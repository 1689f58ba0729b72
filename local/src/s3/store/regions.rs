//! Where each bucket lives. A bucket belongs to the region its CreateBucket was signed for (one
//! file per bucket under `.regions`); a bucket without one (made before regions were kept, or by
//! the server itself) is in the region the server stands for.
//!
//! CreateBucket's rules, as the S3 API reference words them
//! (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html):
//! - us-east-1 takes no LocationConstraint; every other region needs one naming it, else
//!   `IllegalLocationConstraintException` (AWS's words quoted in public issues: the AWS CLI's
//!   `create-bucket --region eu-west-1` without a configuration,
//!   https://github.com/aws/aws-parallelcluster/pull/1190 "The unspecified location constraint is
//!   incompatible for the region specific endpoint this request was sent to."; a wrong one,
//!   https://github.com/versity/versitygw/issues/2246 "The eu-central-1 location constraint is
//!   incompatible for the region specific endpoint this request was sent to.");
//! - re-creating a bucket you own: `BucketAlreadyOwnedByYou` "in all AWS Regions except in the
//!   North Virginia Region. For legacy compatibility, if you re-create an existing bucket that you
//!   already own in the North Virginia Region, Amazon S3 returns 200 OK" (the botocore model's
//!   documentation of BucketAlreadyOwnedByYou).

use std::path::PathBuf;

use s3s::{S3Result, s3_error};

use super::{Store, internal, write_atomic};

const REGIONS_DIR: &str = ".regions";

impl Store {
    fn region_path(&self, bucket: &str) -> PathBuf {
        self.0.root.join(REGIONS_DIR).join(bucket)
    }

    /// The region of an existing bucket; None when there is no such bucket.
    pub(in crate::s3) async fn bucket_region(&self, bucket: &str) -> Option<String> {
        if !self.bucket_dir(bucket).is_dir() {
            return None;
        }
        match tokio::fs::read_to_string(self.region_path(bucket)).await {
            Ok(region) if !region.trim().is_empty() => Some(region.trim().to_owned()),
            _ => Some(self.0.region.clone()),
        }
    }

    pub(super) async fn set_bucket_region(&self, bucket: &str, region: Option<&str>) -> S3Result<()> {
        let path = self.region_path(bucket);
        match region {
            Some(region) => write_atomic(&path, region).await.map_err(internal),
            None => match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(internal(e)),
                _ => Ok(()),
            },
        }
    }

    /// The region a CreateBucket signed for `region` puts the bucket in, or S3's refusal of its
    /// LocationConstraint.
    pub(super) fn check_location(region: &str, constraint: Option<&str>) -> S3Result<()> {
        match (region, constraint) {
            ("us-east-1", None) => Ok(()),
            // "us-east-1" named explicitly is refused too: the constraint is for other regions.
            ("us-east-1", Some(_)) => Err(s3_error!(
                InvalidLocationConstraint,
                "The specified location-constraint is not valid"
            )),
            (_, None) => Err(s3_error!(
                IllegalLocationConstraintException,
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
            )),
            (_, Some(c)) if c != region => Err(s3_error!(
                IllegalLocationConstraintException,
                "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
            )),
            _ => Ok(()),
        }
    }

    /// CreateBucket's `Location`: `/bucket` in us-east-1, the bucket's URL elsewhere.
    pub(super) fn location(bucket: &str, region: &str) -> String {
        if region == "us-east-1" {
            format!("/{bucket}")
        } else {
            format!("http://{bucket}.s3.amazonaws.com/")
        }
    }

    /// Re-creating a bucket that exists (in region `existing`): the caller owns every bucket here
    /// (one account). Ok(true): answer 200 and create nothing.
    pub(super) fn already_owned(region: &str, existing: &str) -> S3Result<bool> {
        if region == "us-east-1" && existing == "us-east-1" {
            // Legacy: 200 OK, nothing created.
            return Ok(true);
        }
        Err(s3_error!(
            BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it."
        ))
    }
}
