//! Storage: s3s-fs for buckets and objects, plus the bucket policies that
//! s3s-fs does not implement (one JSON file per bucket).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;

/// Policies live beside the buckets; the leading dot makes it an invalid
/// bucket name, so s3s-fs never lists it as one and no request can address it.
const POLICY_DIR: &str = ".policies";

#[derive(Clone)]
pub(super) struct Store(Arc<Inner>);

struct Inner {
    fs: FileSystem,
    root: PathBuf,
}

impl Store {
    pub(super) fn new(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        // s3s-fs canonicalizes its root; do the same so our paths agree with its.
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        // s3s_fs::Error implements Debug but not Display.
        let fs = FileSystem::new(&root).map_err(|e| anyhow::anyhow!("opening {}: {e:?}", root.display()))?;
        Ok(Self(Arc::new(Inner { fs, root })))
    }

    /// Bucket names reaching us were validated by s3s (no `/`, no `..`), so joining is safe.
    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.0.root.join(bucket)
    }

    fn policy_path(&self, bucket: &str) -> PathBuf {
        self.0.root.join(POLICY_DIR).join(format!("{bucket}.json"))
    }

    fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.bucket_dir(bucket).is_dir() {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }

    /// The bucket's policy document, if it has one.
    pub(super) async fn policy(&self, bucket: &str) -> Option<String> {
        tokio::fs::read_to_string(self.policy_path(bucket)).await.ok()
    }

    /// Empties the root directory but keeps it (s3s-fs holds its path).
    pub(super) async fn reset(&self) -> anyhow::Result<()> {
        let mut entries = tokio::fs::read_dir(&self.0.root).await?;
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            let result = if entry.file_type().await?.is_dir() {
                tokio::fs::remove_dir_all(&path).await
            } else {
                tokio::fs::remove_file(&path).await
            };
            match result {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", path.display()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Any regular file below `dir` (s3s-fs stores objects as files, and leaves
/// empty directories behind when objects are deleted).
fn contains_file(dir: &Path) -> std::io::Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        other => other?,
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() || contains_file(&entry.path())? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> s3s::S3Error {
    s3s::S3Error::internal_error(e)
}

/// Writes `{path}` atomically so a concurrent reader never sees half a policy.
async fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    tokio::fs::write(&tmp, contents).await?;
    tokio::fs::rename(&tmp, path).await
}

/// Generates the `S3` impl: the listed operations go straight to s3s-fs,
/// the remaining tokens are our own methods. A macro because `async_trait`
/// must see the generated methods, and there are many of them.
macro_rules! s3_impl {
    (forward { $($op:ident($input:ident) -> $output:ident;)* } $($own:tt)*) => {
        #[async_trait::async_trait]
        impl S3 for Store {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.0.fs.$op(req).await
                }
            )*
            $($own)*
        }
    };
}

s3_impl! {
    forward {
        create_bucket(CreateBucketInput) -> CreateBucketOutput;
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        list_objects(ListObjectsInput) -> ListObjectsOutput;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output;
        put_object(PutObjectInput) -> PutObjectOutput;
        get_object(GetObjectInput) -> GetObjectOutput;
        head_object(HeadObjectInput) -> HeadObjectOutput;
        copy_object(CopyObjectInput) -> CopyObjectOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        // `aws s3 cp` switches to multipart above 8 MiB.
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
        upload_part(UploadPartInput) -> UploadPartOutput;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
        list_parts(ListPartsInput) -> ListPartsOutput;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    }

    /// s3s-fs deletes non-empty buckets; AWS refuses, and callers should be
    /// tested against AWS's behaviour. The policy goes with the bucket.
    async fn delete_bucket(&self, req: S3Request<DeleteBucketInput>) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let dir = self.bucket_dir(&bucket);
        let not_empty = tokio::task::spawn_blocking(move || contains_file(&dir))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        if not_empty {
            return Err(s3_error!(BucketNotEmpty));
        }
        let out = self.0.fs.delete_bucket(req).await?;
        match tokio::fs::remove_file(self.policy_path(&bucket)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(internal(e)),
            _ => {}
        }
        Ok(out)
    }

    async fn put_bucket_policy(&self, req: S3Request<PutBucketPolicyInput>) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let input = req.input;
        self.require_bucket(&input.bucket)?;
        if !serde_json::from_str::<serde_json::Value>(&input.policy).is_ok_and(|v| v.is_object()) {
            return Err(s3_error!(MalformedPolicy, "Policies must be valid JSON objects"));
        }
        write_atomic(&self.policy_path(&input.bucket), &input.policy).await.map_err(internal)?;
        Ok(S3Response::new(PutBucketPolicyOutput::default()))
    }

    async fn get_bucket_policy(&self, req: S3Request<GetBucketPolicyInput>) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let bucket = req.input.bucket;
        self.require_bucket(&bucket)?;
        match tokio::fs::read_to_string(self.policy_path(&bucket)).await {
            Ok(policy) => Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(policy) })),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"))
            }
            Err(e) => Err(internal(e)),
        }
    }

    async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let bucket = req.input.bucket;
        self.require_bucket(&bucket)?;
        match tokio::fs::remove_file(self.policy_path(&bucket)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(internal(e)),
            _ => Ok(S3Response::new(DeleteBucketPolicyOutput::default())),
        }
    }

    /// Accepted and ignored: on AWS a public-read policy needs Block Public
    /// Access relaxed first, and clients written for AWS do exactly that.
    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        self.require_bucket(&req.input.bucket)?;
        Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        self.require_bucket(&req.input.bucket)?;
        Ok(S3Response::new(DeletePublicAccessBlockOutput::default()))
    }
}
