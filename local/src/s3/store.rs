//! Storage: s3s-fs for buckets and objects (each object under its key's stored name, see
//! [`super::keys`]), plus the bucket policies that s3s-fs does not implement (one JSON file per
//! bucket).

mod attributes;
mod objects;
mod regions;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;

use super::keys::{self, KeyIndex};

/// Policies live beside the buckets; the leading dot makes it an invalid
/// bucket name, so s3s-fs never lists it as one and no request can address it.
const POLICY_DIR: &str = ".policies";
/// A bucket's account-level settings: Block Public Access (as a new bucket has since April 2023).
const SETTINGS_DIR: &str = ".settings";
/// S3's limit on a bucket policy document.
const POLICY_MAX_BYTES: usize = 20 * 1024;

/// Block Public Access for one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Block {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl Block {
    const NEW_BUCKET: Self = Self {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    const OFF: Self = Self {
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
    };
}

#[derive(Clone)]
pub(super) struct Store(Arc<Inner>);

struct Inner {
    fs: FileSystem,
    /// The keys of every bucket's objects (the file store knows only their stored names).
    index: KeyIndex,
    root: PathBuf,
    /// The region this endpoint stands for: CreateBucket's LocationConstraint must name it.
    region: String,
    account_id: String,
}

impl Store {
    pub(super) fn new(root: &Path, region: &str, account_id: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        // s3s-fs canonicalizes its root; do the same so our paths agree with its.
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        // s3s_fs::Error implements Debug but not Display.
        let fs = FileSystem::new(&root).map_err(|e| anyhow::anyhow!("opening {}: {e:?}", root.display()))?;
        Ok(Self(Arc::new(Inner {
            fs,
            index: KeyIndex::new(&root),
            root,
            region: region.to_owned(),
            account_id: account_id.to_owned(),
        })))
    }

    /// Bucket names reaching us were validated by s3s (no `/`, no `..`), so joining is safe.
    pub(super) fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.0.root.join(bucket)
    }

    /// A bucket's object ownership when CreateBucket asked for other than BucketOwnerEnforced.
    fn ownership_path(&self, bucket: &str) -> PathBuf {
        self.0.root.join(".ownership").join(bucket)
    }

    fn policy_path(&self, bucket: &str) -> PathBuf {
        self.0.root.join(POLICY_DIR).join(format!("{bucket}.json"))
    }

    pub(super) fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.bucket_dir(bucket).is_dir() {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }

    fn settings_path(&self, bucket: &str) -> PathBuf {
        self.0.root.join(SETTINGS_DIR).join(format!("{bucket}.json"))
    }

    /// The bucket's Block Public Access settings (none stored: all off, as for a bucket from before
    /// the 2023 defaults).
    pub(super) async fn block(&self, bucket: &str) -> Block {
        self.stored_block(bucket).await.unwrap_or(Block::OFF)
    }

    async fn stored_block(&self, bucket: &str) -> Option<Block> {
        let text = tokio::fs::read_to_string(self.settings_path(bucket)).await.ok()?;
        serde_json::from_str(&text).ok()
    }

    async fn set_block(&self, bucket: &str, block: Option<Block>) -> S3Result<()> {
        let path = self.settings_path(bucket);
        match block {
            Some(block) => write_atomic(&path, &serde_json::to_string(&block).map_err(internal)?)
                .await
                .map_err(internal),
            None => match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(internal(e)),
                _ => Ok(()),
            },
        }
    }

    /// The bucket's policy document, if it has one.
    pub(super) async fn policy(&self, bucket: &str) -> Option<String> {
        tokio::fs::read_to_string(self.policy_path(bucket)).await.ok()
    }

    /// Empties the root directory but keeps it (s3s-fs holds its path).
    pub(super) async fn reset(&self) -> anyhow::Result<()> {
        self.0.index.clear();
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

/// Generates the `S3` impl: the `forward` operations go straight to s3s-fs, the `keyed` ones
/// too with their key replaced by its stored name, `by` ones to a method of ours; the remaining
/// tokens are our own methods. A macro because `async_trait` must see the generated methods, and
/// there are many of them.
macro_rules! s3_impl {
    (
        forward { $($op:ident($input:ident) -> $output:ident;)* }
        keyed { $($kop:ident($kinput:ident) -> $koutput:ident;)* }
        by { $($bop:ident($binput:ident) -> $boutput:ident = $method:ident;)* }
        $($own:tt)*
    ) => {
        #[async_trait::async_trait]
        impl S3 for Store {
            $(
                async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    self.0.fs.$op(req).await
                }
            )*
            $(
                async fn $kop(&self, mut req: S3Request<$kinput>) -> S3Result<S3Response<$koutput>> {
                    // A missing bucket is NoSuchBucket (s3s-fs would say NoSuchKey).
                    self.require_bucket(&req.input.bucket)?;
                    req.input.key = keys::stored_name(&req.input.key)?;
                    self.0.fs.$kop(req).await
                }
            )*
            $(
                async fn $bop(&self, req: S3Request<$binput>) -> S3Result<S3Response<$boutput>> {
                    self.$method(req).await
                }
            )*
            $($own)*
        }
    };
}

s3_impl! {
    forward {
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
    }
    keyed {
        upload_part(UploadPartInput) -> UploadPartOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    }
    by {
        list_objects(ListObjectsInput) -> ListObjectsOutput = list_v1;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output = list_v2;
        copy_object(CopyObjectInput) -> CopyObjectOutput = copy_keyed;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput = delete_keyed;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput = delete_many;
        // `aws s3 cp` switches to multipart above 8 MiB.
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput = create_upload_keyed;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput = upload_part_copy_keyed;
        list_parts(ListPartsInput) -> ListPartsOutput = list_parts_keyed;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput = complete_upload_keyed;
    }

    /// As a new bucket on AWS since April 2023: the region's LocationConstraint (none in
    /// us-east-1), no ACLs (object ownership BucketOwnerEnforced), Block Public Access on. The
    /// bucket is in the region the request was signed for (see [`regions`]).
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        let signed = req.region.as_ref().map(|r| r.as_str().to_owned());
        let region = signed.unwrap_or_else(|| self.0.region.clone());
        let constraint = req
            .input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|c| c.as_str().to_owned());
        Self::check_location(&region, constraint.as_deref())?;
        if let Some(existing) = self.bucket_region(&req.input.bucket).await
            && Self::already_owned(&region, &existing)?
        {
            let location = Some(Self::location(&req.input.bucket, &region));
            return Ok(S3Response::new(CreateBucketOutput { location }));
        }
        let bucket = req.input.bucket.clone();
        let ownership = (req.input.object_ownership.as_ref())
            .map(|o| o.as_str().to_owned())
            .filter(|o| o != ObjectOwnership::BUCKET_OWNER_ENFORCED);
        // Only under BucketOwnerEnforced (the default): AWS's words in
        // https://github.com/awslabs/game-analytics-pipeline/issues/8; the rule in
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html.
        if ownership.is_none() && req.input.acl.as_ref().is_some_and(|acl| acl.as_str() != BucketCannedACL::PRIVATE) {
            return Err(s3_error!(
                InvalidBucketAclWithObjectOwnership,
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
            ));
        }
        let mut out = self.0.fs.create_bucket(req).await?;
        self.set_block(&bucket, Some(Block::NEW_BUCKET)).await?;
        self.set_bucket_region(&bucket, Some(&region)).await?;
        if let Some(ownership) = &ownership {
            write_atomic(&self.ownership_path(&bucket), ownership).await.map_err(internal)?;
        }
        // The Location header as the AWS CLI's examples show it (awscli/examples/s3api/create-bucket.rst).
        out.output.location = Some(Self::location(&bucket, &region));
        Ok(out)
    }

    /// ACLs are disabled (BucketOwnerEnforced): only the canned ACLs that mean "the owner" pass.
    async fn put_object(&self, mut req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        // `aws-chunked` says how the body travelled, not how the object is stored.
        let encodings = (req.input.content_encoding.take().unwrap_or_default().split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty() && *e != "aws-chunked")
            .collect::<Vec<_>>()
            .join(",");
        req.input.content_encoding = (!encodings.is_empty()).then_some(encodings);
        // "All S3 PUT requests must either specify the bucket-owner-full-control canned ACL or not
        // specify an ACL" under BucketOwnerEnforced; AccessControlListNotSupported, AWS's words in
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html.
        // (`private` grants the owner alone full control: the equivalent the API reference allows.)
        if let Some(acl) = &req.input.acl
            && !matches!(acl.as_str(), ObjectCannedACL::PRIVATE | ObjectCannedACL::BUCKET_OWNER_FULL_CONTROL)
            && !tokio::fs::try_exists(self.ownership_path(&req.input.bucket)).await.unwrap_or(false)
        {
            return Err(s3_error!(AccessControlListNotSupported, "The bucket does not allow ACLs"));
        }
        attributes::stash(&mut req.input);
        let mut out = self.put_keyed(req).await?;
        attributes::put_answer(&mut out.output);
        Ok(out)
    }

    async fn get_object(&self, mut req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.require_bucket(&req.input.bucket)?;
        req.input.key = keys::stored_name(&req.input.key)?;
        let mut out = self.0.fs.get_object(req).await?;
        attributes::get_answer(&mut out.output);
        Ok(out)
    }

    async fn head_object(&self, mut req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.require_bucket(&req.input.bucket)?;
        req.input.key = keys::stored_name(&req.input.key)?;
        let mut out = self.0.fs.head_object(req).await?;
        attributes::head_answer(&mut out.output);
        Ok(out)
    }

    /// The tags PutObject was given (`x-amz-tagging`); none is an empty set.
    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.require_bucket(&req.input.bucket)?;
        let input = HeadObjectInput::builder()
            .bucket(req.input.bucket.clone())
            .key(keys::stored_name(&req.input.key)?)
            .build()
            .map_err(|e| s3_error!(InvalidArgument, "{e}"))?;
        let mut head = self.0.fs.head_object(req.map_input(|_| input)).await?;
        let tagging = attributes::head_answer(&mut head.output);
        let tag_set = attributes::tags(&tagging.unwrap_or_default());
        Ok(S3Response::new(GetObjectTaggingOutput { tag_set, version_id: None }))
    }

    /// The ownership CreateBucket asked for; BucketOwnerEnforced (ACLs off) unless it asked
    /// otherwise, the default since April 2023. (The store refuses ACLs whatever it says.)
    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        self.require_bucket(&req.input.bucket)?;
        let asked = tokio::fs::read_to_string(self.ownership_path(&req.input.bucket)).await.ok();
        let rule = OwnershipControlsRule {
            object_ownership: asked
                .map(|o| ObjectOwnership::from(o.trim().to_owned()))
                .unwrap_or_else(|| ObjectOwnership::from_static(ObjectOwnership::BUCKET_OWNER_ENFORCED)),
        };
        Ok(S3Response::new(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls { rules: vec![rule] }),
        }))
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
        // "All objects (including all object versions and delete markers) in the bucket must be
        // deleted before the bucket itself can be deleted" (API reference, DeleteBucket).
        if not_empty {
            return Err(s3_error!(BucketNotEmpty));
        }
        let out = self.0.fs.delete_bucket(req).await?;
        self.0.index.drop_bucket(&bucket).map_err(internal)?;
        for path in [self.policy_path(&bucket), self.ownership_path(&bucket)] {
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(internal(e)),
                _ => {}
            }
        }
        self.set_block(&bucket, None).await?;
        self.set_bucket_region(&bucket, None).await?;
        Ok(out)
    }

    /// The bucket's region; us-east-1 answers an empty LocationConstraint (API reference,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html: "Buckets in
    /// Region us-east-1 have a LocationConstraint of null").
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let Some(region) = self.bucket_region(&req.input.bucket).await else {
            return Err(s3_error!(NoSuchBucket, "The specified bucket does not exist"));
        };
        let location_constraint = (region != "us-east-1").then(|| BucketLocationConstraint::from(region));
        Ok(S3Response::new(GetBucketLocationOutput { location_constraint }))
    }

    async fn put_bucket_policy(&self, req: S3Request<PutBucketPolicyInput>) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let input = req.input;
        self.require_bucket(&input.bucket)?;
        // AWS's words: "Policies must be valid JSON and the first byte must be '{'"
        // (https://github.com/aws/aws-cli/issues/2779); "This policy contains invalid Json" when it
        // starts with `{` (https://github.com/versity/versitygw/pull/1156, mirroring AWS).
        if !input.policy.starts_with('{') {
            return Err(s3_error!(MalformedPolicy, "Policies must be valid JSON and the first byte must be '{{'"));
        }
        let document = serde_json::from_str::<serde_json::Value>(&input.policy).ok().filter(|v| v.is_object());
        let Some(document) = document else {
            return Err(s3_error!(MalformedPolicy, "This policy contains invalid Json"));
        };
        // "Bucket policies are limited to 20 KB in size"
        // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html).
        if input.policy.len() > POLICY_MAX_BYTES {
            return Err(s3_error!(MalformedPolicy, "Policy exceeds the maximum allowed document size."));
        }
        if let Some(words) = super::grammar::refusal(&document, &input.bucket) {
            return Err(s3_error!(MalformedPolicy, "{words}"));
        }
        // BlockPublicPolicy: "PUT Bucket policy calls fail if the specified bucket policy allows
        // public access" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
        if super::policy::is_public(&input.policy) && self.block(&input.bucket).await.block_public_policy {
            let (account, bucket) = (&self.0.account_id, &input.bucket);
            return Err(s3_error!(
                AccessDenied,
                "User: arn:aws:iam::{account}:root is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{bucket}\" because public policies are blocked by the BlockPublicPolicy block public access setting."
            ));
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

    async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        self.require_bucket(&req.input.bucket)?;
        // AWS's words (404) in https://github.com/boto/boto3/issues/3627.
        let Some(block) = self.stored_block(&req.input.bucket).await else {
            let mut error = s3s::S3Error::with_message(
                s3s::S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
                "The public access block configuration was not found",
            );
            error.set_status_code(axum::http::StatusCode::NOT_FOUND);
            return Err(error);
        };
        let configuration = PublicAccessBlockConfiguration {
            block_public_acls: Some(block.block_public_acls),
            ignore_public_acls: Some(block.ignore_public_acls),
            block_public_policy: Some(block.block_public_policy),
            restrict_public_buckets: Some(block.restrict_public_buckets),
        };
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(configuration),
        }))
    }

    /// Takes effect: a public policy is refused while BlockPublicPolicy is on, and ignored for
    /// anonymous reads while RestrictPublicBuckets is on.
    async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        self.require_bucket(&req.input.bucket)?;
        let c = &req.input.public_access_block_configuration;
        // A configuration with none of the four settings (only unknown elements, say) is not
        // read as "all off". No public source found for this rule (audited 2026-12): kept because
        // an empty configuration would silently turn every protection off.
        if c.block_public_acls.is_none()
            && c.ignore_public_acls.is_none()
            && c.block_public_policy.is_none()
            && c.restrict_public_buckets.is_none()
        {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let block = Block {
            block_public_acls: c.block_public_acls.unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
            block_public_policy: c.block_public_policy.unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
        };
        self.set_block(&req.input.bucket, Some(block)).await?;
        Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        self.require_bucket(&req.input.bucket)?;
        self.set_block(&req.input.bucket, None).await?;
        Ok(S3Response::new(DeletePublicAccessBlockOutput::default()))
    }
}
