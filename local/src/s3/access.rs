//! Who may do what in S3. s3s verifies every signature (SigV4 headers, presigned URLs, aws-chunked
//! bodies) against the keys this server holds; this hook then decides:
//! - anonymous requests: only `GetObject` / `HeadObject` a public bucket policy grants;
//! - signed requests: the session token, the credential's region, the header and query-string
//!   members against the S3 service model, and the key's IAM policy;
//! - requests signed by the CloudFront service principal's key (the edge of a distribution whose
//!   S3 origin has an origin access control): only `GetObject` / `HeadObject`, and only where a
//!   bucket policy statement for `Principal: {"Service": "cloudfront.amazonaws.com"}` allows it,
//!   its `Condition` evaluated with `aws:SourceArn` / `aws:SourceAccount` from the signed
//!   `x-amz-source-arn` / `x-amz-source-account` headers.

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use super::policy::{allows_anonymous_get, allows_service_get};
use super::store::Store;
use crate::auth::{Caller, Keys, Session};
use crate::model::ServiceModel;

fn unknown_key() -> s3s::S3Error {
    s3_error!(
        InvalidAccessKeyId,
        "The AWS Access Key Id you provided does not exist in our records."
    )
}

/// The secret behind an access key, for s3s's verifier.
pub(super) struct KeyAuth(pub Arc<Keys>);

#[async_trait::async_trait]
impl S3Auth for KeyAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let cloudfront = self.0.service_principal();
        if access_key == cloudfront.access_key_id {
            return Ok(SecretKey::from(cloudfront.secret_access_key.as_str()));
        }
        match self.0.get(access_key) {
            Some(key) => Ok(SecretKey::from(key.secret_access_key.as_str())),
            None => Err(unknown_key()),
        }
    }
}

pub(super) struct Access {
    pub store: Store,
    pub keys: Arc<Keys>,
    pub region: String,
    pub account: String,
    pub model: Option<Arc<ServiceModel>>,
}

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(credentials) = cx.credentials() else {
            return self.anonymous(cx).await;
        };
        if credentials.access_key == self.keys.service_principal().access_key_id {
            return self.cloudfront(cx).await;
        }
        let key = self.keys.get(&credentials.access_key).ok_or_else(unknown_key)?;
        let header = |name: &str| cx.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let query = crate::protocol::query_params(cx.uri().query().unwrap_or(""));
        let token = header("x-amz-security-token").or_else(|| query.get("X-Amz-Security-Token")?.first().cloned());
        match key.check_session(token.as_deref(), jiff::Timestamp::now()) {
            Ok(()) => {}
            Err(Session::Expired) => return Err(s3_error!(ExpiredToken, "The provided token has expired.")),
            Err(Session::Invalid) => {
                return Err(s3_error!(
                    InvalidToken,
                    "The provided token is malformed or otherwise invalid."
                ));
            }
        }
        let in_header = header("authorization").and_then(|a| Some(a.split("Credential=").nth(1)?.to_owned()));
        let presigned = in_header.is_none();
        let credential = in_header
            .or_else(|| query.get("X-Amz-Credential")?.first().cloned())
            .unwrap_or_default();
        let signed_region = credential.split('/').nth(2).unwrap_or(&self.region).to_owned();
        let operation = cx.s3_op().name();
        self.check_region(cx, operation, &signed_region, presigned).await?;
        if let Some(model) = &self.model {
            let violations = model.validate_located(operation, &header, &query);
            if let Some(v) = violations.first() {
                if v.path == "x-amz-storage-class" {
                    return Err(s3_error!(
                        InvalidStorageClass,
                        "The storage class you specified is not valid"
                    ));
                }
                return Err(s3_error!(InvalidArgument, "{} {}", v.path, v.message));
            }
        }
        let caller = Caller {
            key,
            region: signed_region,
            account: self.account.clone(),
        };
        let path = cx.s3_path();
        let asked = super::iam::asked(
            &caller.scope(),
            operation,
            path.get_bucket_name(),
            path.get_object_key(),
        );
        // The chain's IAM stage, as for every protocol; the signature stage is s3s's verifier
        // (aws-chunked bodies are verified chunk by chunk as they stream), fed the same keys.
        match crate::chain::iam_refusal(&caller, &asked, None) {
            Some(message) => Err(s3_error!(AccessDenied, "{message}")),
            None => Ok(()),
        }
    }
}

impl Access {
    /// A bucket answers only requests signed for its own region. S3's answer to another region:
    /// 400 `AuthorizationHeaderMalformed` "The authorization header is malformed; the region 'X'
    /// is wrong; expecting 'Y'" with the `x-amz-bucket-region` header and a `<Region>` element
    /// (a response from AWS quoted whole in https://github.com/jsoma/flatware/issues/10; also
    /// https://github.com/aws/aws-sdk-js/issues/986). CreateBucket is judged by its
    /// LocationConstraint instead, ListBuckets lists every region's buckets, and GetBucketLocation
    /// is how clients find a bucket's region, answered whatever the signed region (a us-east-1
    /// signed `?location` of a eu-west-1 bucket answered 200 in
    /// https://github.com/minio/minio-java/issues/670).
    ///
    /// A presigned URL signed for another region: `AuthorizationQueryParametersError` "Error
    /// parsing the X-Amz-Credential parameter; the region 'X' is wrong; expecting 'Y'" (AWS's
    /// answers quoted in https://github.com/HHS/Head-Start-TTADP/issues/370 and
    /// https://github.com/ai-dock/comfyui/issues/34).
    async fn check_region(
        &self,
        cx: &S3AccessContext<'_>,
        operation: &str,
        signed: &str,
        presigned: bool,
    ) -> S3Result<()> {
        if matches!(operation, "CreateBucket" | "ListBuckets" | "GetBucketLocation") {
            return Ok(());
        }
        let Some(bucket) = cx.s3_path().get_bucket_name() else {
            return Ok(());
        };
        match self.store.bucket_region(bucket).await {
            Some(region) if region != signed => {
                let mut error = if presigned {
                    s3_error!(
                        AuthorizationQueryParametersError,
                        "Error parsing the X-Amz-Credential parameter; the region '{signed}' is wrong; expecting '{region}'"
                    )
                } else {
                    s3_error!(
                        AuthorizationHeaderMalformed,
                        "The authorization header is malformed; the region '{signed}' is wrong; expecting '{region}'"
                    )
                };
                let mut headers = axum::http::HeaderMap::new();
                if let Ok(value) = axum::http::HeaderValue::from_str(&region) {
                    headers.insert(super::BUCKET_REGION, value);
                }
                error.set_headers(headers);
                Err(error)
            }
            _ => Ok(()),
        }
    }

    /// The CloudFront service principal reading an object for a distribution's edge.
    async fn cloudfront(&self, cx: &S3AccessContext<'_>) -> S3Result<()> {
        let header = |name: &str| cx.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let signed = header("authorization")
            .and_then(|a| Some(a.split("SignedHeaders=").nth(1)?.split(',').next()?.to_owned()))
            .unwrap_or_default();
        let signed: Vec<&str> = signed.split(';').collect();
        let source = |name: &str| header(name).filter(|_| signed.contains(&name));
        let (Some(arn), Some(account)) = (source("x-amz-source-arn"), source("x-amz-source-account")) else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        if matches!(cx.s3_op().name(), "GetObject" | "HeadObject")
            && let Some((bucket, key)) = cx.s3_path().as_object()
            && let Some(policy) = self.store.policy(bucket).await
            && allows_service_get(&policy, "cloudfront.amazonaws.com", bucket, key, &arn, &account)
        {
            return Ok(());
        }
        Err(s3_error!(AccessDenied, "Access Denied"))
    }

    async fn anonymous(&self, cx: &S3AccessContext<'_>) -> S3Result<()> {
        if matches!(cx.s3_op().name(), "GetObject" | "HeadObject")
            && let Some((bucket, key)) = cx.s3_path().as_object()
            // RestrictPublicBuckets: a public policy grants anonymous callers nothing.
            && !self.store.block(bucket).await.restrict_public_buckets
            && let Some(policy) = self.store.policy(bucket).await
            && allows_anonymous_get(&policy, bucket, key)
        {
            return Ok(());
        }
        Err(s3_error!(AccessDenied, "Access Denied"))
    }
}
