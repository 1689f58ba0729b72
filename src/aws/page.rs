//! The stream's player page on S3: its objects under the stream's prefix in the player bucket,
//! and the bucket-policy statement every page of a bucket shares (public read, or read by the
//! account's CloudFront distributions). The bucket is shared and never deleted; the statement goes
//! with the bucket's last page.
//!
//! S3 is the operator's own record here: nothing but the operator writes a stream's prefix, so a
//! pass knows its page from status (bucket and digest, `Page::recorded`) and a steady stream makes
//! no S3 call. Teardown looks in S3 itself (`find`): a crash may have come before status was
//! written.

use super::{AwsClients, Kind, Managed, Owner, Shared, s3};
use crate::{
    desired::website::{self, Grant, PageRequest},
    error::{Error, Result},
};

/// A published player page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// `s3://bucket/prefix`.
    pub location: String,
    pub bucket: String,
    pub prefix: String,
    /// Of what was uploaded (`website::digest`); `None`: not known to be complete.
    pub digest: Option<String>,
    /// The stream's uid: a prefix is its stream's alone.
    pub owner: String,
    /// Other buckets teardown found the page in too (the one the spec names, after a move).
    pub also_in: Vec<String>,
}

impl Page {
    fn at(bucket: &str, prefix: &str, digest: Option<String>, owner: &str) -> Self {
        Self {
            location: format!("s3://{bucket}/{prefix}"),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            digest,
            owner: owner.to_owned(),
            also_in: Vec::new(),
        }
    }

    /// The page status says was published (its bucket and the digest of what went there).
    pub fn recorded(bucket: Option<&str>, digest: Option<&str>, prefix: &str, owner: &str) -> Option<Self> {
        Some(Self::at(bucket?, prefix, digest.map(str::to_owned), owner))
    }
}

impl Managed for Page {
    const KIND: Kind = Kind::Page;
    type Desired = PageRequest;

    fn id(&self) -> &str {
        &self.location
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.owner)
    }

    /// Another page (a new build, a new playback URL) or another bucket.
    fn differs(&self, want: &PageRequest) -> bool {
        self.bucket != want.bucket || self.digest.as_deref() != Some(want.digest.as_str())
    }

    async fn create(aws: &AwsClients, want: &PageRequest, owner: &Owner<'_>) -> Result<Self> {
        publish(aws, want).await?;
        Ok(Self::at(
            &want.bucket,
            &want.prefix,
            Some(want.digest.clone()),
            owner.uid,
        ))
    }

    /// Publishes the page where the spec wants it, then removes it from the bucket it leaves.
    async fn update(aws: &AwsClients, current: &Self, want: &PageRequest) -> Result<Self> {
        publish(aws, want).await?;
        if current.bucket != want.bucket {
            remove_from(aws, &current.bucket, &current.prefix).await?;
        }
        Ok(Self::at(
            &want.bucket,
            &want.prefix,
            Some(want.digest.clone()),
            &current.owner,
        ))
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        for bucket in std::iter::once(&current.bucket).chain(&current.also_in) {
            remove_from(aws, bucket, &current.prefix).await?;
        }
        Ok(())
    }
}

/// The stream's page in any of `buckets` (the one status names, the one the spec names): where
/// objects under its prefix are, or the pages' grant outlived the last page (a crash between the
/// two).
pub async fn find(aws: &AwsClients, buckets: &[String], prefix: &str, owner: &str) -> Result<Option<Page>> {
    let mut found: Vec<&String> = Vec::new();
    for bucket in buckets {
        let Some(keys) = s3::keys(aws, bucket, prefix).await? else {
            continue;
        };
        if !keys.is_empty() || s3::grant_unused(aws, bucket, &Grant::all(bucket), website::PAGES).await? {
            found.push(bucket);
        }
    }
    let Some((first, rest)) = found.split_first() else {
        return Ok(None);
    };
    let mut page = Page::at(first, prefix, None, owner);
    page.also_in = rest.iter().map(|b| (*b).clone()).collect();
    Ok(Some(page))
}

/// Uploads the objects under the prefix, then grants read of the pages.
async fn publish(aws: &AwsClients, want: &PageRequest) -> Result<()> {
    let (bucket, prefix) = (&want.bucket, &want.prefix);
    s3::Bucket::ensure(aws, bucket).await?;
    for object in &want.objects {
        let put = s3::Put {
            key: format!("{prefix}{}", object.name),
            body: object.body.clone(),
            content_type: object.content_type,
            cache_control: object.cache_control,
        };
        s3::put_object(aws, bucket, put).await?;
    }
    match s3::grant(aws, bucket, &want.grant).await {
        // Block Public Access (or an IAM policy) refuses the public grant. The operator never
        // turns Block Public Access off behind the user's back: it says how to.
        // (Only PutBucketPolicy's refusal: a refused GetBucketPolicy is a missing permission.)
        Err(
            e @ Error::Aws {
                operation: "PutBucketPolicy",
                ..
            },
        ) if e.code() == Some("AccessDenied") && want.grant.is_public() => Err(Error::WebsiteNotPublic(format!(
            "the player page is in s3://{bucket}/{prefix} but stays private: S3 refused the public-read bucket policy ({e}). \
             To publish player pages from this bucket, allow public bucket policies on it: \
             `aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration \
             BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false` \
             (and grant the operator s3:PutBucketPolicy); or set spec.delivery.mode: CloudFront, which keeps the bucket private; or set spec.website.enabled: false"
        ))),
        other => other,
    }
}

/// Deletes the page's objects from `bucket`, and the pages' grant with the bucket's last page.
async fn remove_from(aws: &AwsClients, bucket: &str, prefix: &str) -> Result<()> {
    let Some(keys) = s3::keys(aws, bucket, prefix).await? else {
        return Ok(());
    };
    for key in &keys {
        s3::delete_object(aws, bucket, key).await?;
    }
    s3::revoke_unused(aws, bucket, &Grant::all(bucket), website::PAGES).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(bucket: &str, digest: &str) -> PageRequest {
        PageRequest {
            bucket: bucket.into(),
            prefix: "livestreams/events/launch/".into(),
            objects: Vec::new(),
            digest: digest.into(),
            grant: Grant::new(bucket),
            url: None,
        }
    }

    #[test]
    fn a_page_differs_by_its_content_or_its_bucket() {
        let prefix = "livestreams/events/launch/";
        let published = Page::recorded(Some("pages"), Some("d1"), prefix, "uid").unwrap();
        assert_eq!(published.location, "s3://pages/livestreams/events/launch/");
        assert!(!published.differs(&request("pages", "d1")));
        assert!(
            published.differs(&request("pages", "d2")),
            "a new playback URL or build"
        );
        assert!(
            published.differs(&request("moved", "d1")),
            "spec.website.bucket changed"
        );
        let unfinished = Page::recorded(Some("pages"), None, prefix, "uid").unwrap();
        assert!(
            unfinished.differs(&request("pages", "d1")),
            "a publish that did not finish"
        );
        assert_eq!(Page::recorded(None, Some("d1"), prefix, "uid"), None);
    }
}
