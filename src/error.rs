//! Why a reconcile did not finish. Each variant names what failed and maps to a metric label; AWS
//! errors keep the service's error code so conditions and events say what to do.

use std::fmt::Debug;

use aws_sdk_medialive::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    #[error("{}", explain(operation, code, message))]
    Aws {
        operation: &'static str,
        code: String,
        message: String,
        /// The SDK's error, for `source()` (its text is the message's; never shown to the user).
        #[source]
        source: Option<BoxedSource>,
    },

    /// Not a failure: a transition is under way (a channel starting, an input being created, a new
    /// MediaPackage channel not yet visible); reconcile again shortly.
    #[error("waiting: {0}")]
    Waiting(String),

    /// The spec cannot be applied as it is; the message says what to change.
    #[error("{0}")]
    Invalid(String),

    /// An AWS resource with our deterministic name belongs to another LiveStream.
    #[error("{0}")]
    Conflict(String),

    /// The stream-key Secret cannot be used. The message says what to do and never holds the key.
    #[error("{message}")]
    StreamKey { reason: &'static str, message: String },

    /// The player page's bucket refuses to be made public (S3 Block Public Access, on for every
    /// bucket created since April 2023). The rest of the stream is unaffected.
    #[error("{0}")]
    WebsiteNotPublic(String),

    /// AWS refused (in a dry run) a change that a running channel would have been stopped for:
    /// it was not stopped.
    #[error(
        "{0} — the channel was not stopped and runs on with its current settings; fix spec.encoding and the change is tried again"
    )]
    ChangeRefused(Box<Error>),

    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error behind an `Error::Aws`: the SDK's, with its own chain (HTTP, dispatch, credentials).
pub type BoxedSource = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// Wraps an SDK error with the operation it came from.
    pub fn aws<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        // No credentials at all fail inside the SDK, before any request: named by the SDK's type.
        let code = if lacks_credentials(std::error::Error::source(&err)) {
            NO_CREDENTIALS
        } else {
            err.code().unwrap_or("Unknown")
        }
        .to_owned();
        let message = err
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
        Error::Aws {
            operation,
            code,
            message,
            source: Some(Box::new(err)),
        }
    }

    /// The same error with a stream key taken out of the service's message. The SDK's error goes
    /// too: its text holds the message as AWS sent it.
    pub fn redacted(self, target: &crate::desired::ingest::IngestTarget) -> Self {
        match self {
            Error::Aws {
                operation,
                code,
                message,
                ..
            } => Error::Aws {
                operation,
                code,
                message: target.redact(&message),
                source: None,
            },
            other => other,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        // MediaLive and MediaPackage v1 say NotFound; MediaPackage v2 ResourceNotFound; CloudFront
        // NoSuch<Thing>.
        matches!(
            self.code(),
            Some(
                "NotFoundException" | "ResourceNotFoundException" | "NoSuchDistribution" | "NoSuchOriginAccessControl"
            )
        )
    }

    /// IAM refused the action: the operator's policy lacks it.
    pub fn is_access_denied(&self) -> bool {
        matches!(self.code(), Some(code) if ACCESS_DENIED.contains(&code))
    }

    /// An account quota refused a create: raised, or made room for, outside the operator.
    pub fn is_quota(&self) -> bool {
        matches!(self, Error::Aws { operation, code, message, .. } if quota(operation, code, message).is_some())
    }

    /// AWS refused the credentials themselves (or there are none): nothing works until fixed.
    pub fn is_credentials(&self) -> bool {
        matches!(self.code(), Some(code) if CREDENTIALS.iter().any(|(c, _)| *c == code))
    }

    /// Throttling and server-side failures: retry with backoff rather than report at once.
    pub fn is_transient(&self) -> bool {
        !self.is_quota()
            && matches!(
                self.code(),
                Some(
                    "TooManyRequestsException"
                        | "Throttling"
                        | "ServiceUnavailable"
                        | "InternalServerErrorException"
                        | "ServiceUnavailableException"
                        | "BadGatewayException"
                        | "GatewayTimeoutException"
                        | "Unknown"
                )
            )
    }

    /// The condition reason (CamelCase) and event reason for this error. The single place that
    /// classifies errors: by variant and, for AWS, by the service's error code, never by message.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Aws { .. } if self.is_quota() => "AwsQuotaExceeded",
            Error::Aws { code, .. } if code == "TooManyRequestsException" => "AwsThrottled",
            Error::Aws { .. } if self.is_access_denied() => "AwsAccessDenied",
            Error::Aws { .. } if self.is_credentials() => "AwsCredentials",
            Error::Aws { .. } if self.is_transient() => "AwsUnavailable",
            Error::Aws { .. } => "AwsError",
            Error::ChangeRefused(_) => "ChangeRefused",
            Error::Invalid(_) => "InvalidSpec",
            Error::Conflict(_) => "NameConflict",
            Error::StreamKey { reason, .. } => reason,
            Error::Kube(_) => "KubernetesError",
            Error::Waiting(_) => "Waiting",
            Error::WebsiteNotPublic(_) => "WebsiteNotPublic",
            Error::Finalizer(_) => "FinalizerError",
        }
    }

    /// A refusal that right after creating a dependency is most likely AWS's eventual consistency
    /// (MediaLive not seeing a new MediaPackage channel yet answers 422), judged by operation and
    /// error code alone. Retried quietly like a transient error; reported if it persists.
    pub fn may_be_eventual_consistency(&self) -> bool {
        matches!(self, Error::Aws { operation, code, .. }
            if operation.starts_with("CreateChannel") && code == "UnprocessableEntityException")
    }

    /// Label for the reconciles metric: the reason in snake_case, stream-key reasons folded into
    /// one (`aws_throttled`, `invalid_spec`, `stream_key` …), so the two never disagree.
    pub fn metric_label(&self) -> String {
        let reason = match self {
            Error::StreamKey { .. } => "StreamKey",
            other => other.reason(),
        };
        snake_case(reason)
    }

    /// The error behind a finalizer wrapper.
    pub fn inner(&self) -> &Error {
        match self {
            Error::Finalizer(boxed) => match boxed.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e) | kube::runtime::finalizer::Error::CleanupFailed(e) => {
                    e.inner()
                }
                _ => self,
            },
            other => other,
        }
    }
}

/// MediaPackage v2's code for a refusal by quota.
pub const QUOTA_EXCEEDED: &str = "ServiceQuotaExceededException";

/// An account quota (Service Quotas): its service code, what it counts and AWS's default.
struct Quota {
    service: &'static str,
    counts: &'static str,
    default: u32,
}

/// The quota behind a refusal, by operation and error code (MediaPackage v2's user guide
/// "Quotas"; CloudFront's developer guide "Quotas"). MediaLive answers a create over a quota with
/// the code it throttles with (the model: CreateInput's 429 is "Limit exceeded"), so there alone
/// the message tells the two apart.
fn quota(operation: &str, code: &str, message: &str) -> Option<Quota> {
    let limit = code == "TooManyRequestsException" && message.to_ascii_lowercase().contains("limit exceeded");
    let (service, counts, default) = match (operation, code) {
        ("CreateChannel", _) if limit => ("medialive", "channels per Region", 5),
        ("CreateInput", _) if limit => ("medialive", "push inputs per Region", 5),
        ("CreateInputSecurityGroup", _) if limit => ("medialive", "input security groups per Region", 5),
        ("CreateChannelGroup", QUOTA_EXCEEDED) => ("mediapackagev2", "channel groups per account", 3),
        ("CreateChannel", QUOTA_EXCEEDED) => ("mediapackagev2", "channels per channel group", 10),
        ("CreateOriginEndpoint", QUOTA_EXCEEDED) => ("mediapackagev2", "endpoints per channel", 10),
        ("CreateHarvestJob", QUOTA_EXCEEDED) => ("mediapackagev2", "active harvest jobs per channel group", 10),
        (_, "TooManyDistributions") => ("cloudfront", "distributions per account", 500),
        (_, "TooManyOriginAccessControls") => ("cloudfront", "origin access controls per account", 100),
        (_, "TooManyDistributionsAssociatedToOriginAccessControl") => {
            ("cloudfront", "distributions per origin access control", 100)
        }
        _ => return None,
    };
    Some(Quota {
        service,
        counts,
        default,
    })
}

/// The SDK's code for "no credentials could be loaded" (not an AWS error code).
const NO_CREDENTIALS: &str = "NoCredentials";

const ACCESS_DENIED: [&str; 2] = ["AccessDeniedException", "AccessDenied"];

const UNKNOWN_KEY: &str = "AWS does not know the access key id (deleted, mistyped, or of another account)";
const EXPIRED: &str = "the session token has expired: use a source that refreshes it (IRSA, EKS Pod Identity, an instance profile) rather than a fixed AWS_SESSION_TOKEN";

/// AWS's codes for refused credentials (REST-JSON services and S3), with what they mean.
const CREDENTIALS: [(&str, &str); 13] = [
    (NO_CREDENTIALS, "no AWS credentials were found"),
    ("UnrecognizedClientException", UNKNOWN_KEY),
    ("InvalidAccessKeyId", UNKNOWN_KEY),
    ("InvalidClientTokenId", UNKNOWN_KEY),
    ("MissingAuthenticationTokenException", "the requests are not signed"),
    (
        "InvalidSignatureException",
        "the signature does not verify: a wrong secret access key, a region other than the credentials are scoped to, or a clock more than 5 minutes off",
    ),
    (
        "SignatureDoesNotMatch",
        "the signature does not verify: a wrong secret access key",
    ),
    ("IncompleteSignatureException", "the signature is incomplete"),
    (
        "AuthorizationHeaderMalformed",
        "the signature is scoped to another region than the bucket's",
    ),
    ("ExpiredTokenException", EXPIRED),
    ("ExpiredToken", EXPIRED),
    ("InvalidToken", "the session token is invalid"),
    ("RequestTimeTooSkewed", "this machine's clock is too far from AWS's"),
];

/// What the user reads in the condition and the event: AWS's answer, and for permissions and
/// credentials what to change and where the operator looked.
fn explain(operation: &str, code: &str, message: &str) -> String {
    let answer = format!("{operation}: {code}: {message}");
    if ACCESS_DENIED.contains(&code) {
        let (action, resource) = denied_action(message);
        let action = action.map_or_else(|| format!("the permission {operation} needs"), str::to_owned);
        let resource = resource.map_or_else(String::new, |r| format!(" on {r}"));
        return format!(
            "{answer}. Grant {action}{resource} to the operator's IAM identity (deploy/iam-policy.json lists every action the operator calls)"
        );
    }
    if let Some(Quota {
        service,
        counts,
        default,
    }) = quota(operation, code, message)
    {
        return format!(
            "{answer}. The account's quota of {counts} is reached (AWS's default is {default}; AWS's message gives the current value where it has one). Raise it with Service Quotas: `aws service-quotas list-service-quotas --service-code {service}` shows its quota code and value, then `aws service-quotas request-service-quota-increase --service-code {service} --quota-code CODE --desired-value N`"
        );
    }
    if let Some((_, meaning)) = CREDENTIALS.iter().find(|(c, _)| *c == code) {
        return format!(
            "{answer}. AWS refused the operator's credentials: {meaning}. {}",
            credential_sources()
        );
    }
    answer
}

/// `User: X is not authorized to perform: ACTION on resource: RESOURCE because ...`, as AWS words
/// a refusal: the action and resource, for the hint (the decision itself is by error code).
fn denied_action(message: &str) -> (Option<&str>, Option<&str>) {
    let Some(rest) = message.split("perform: ").nth(1) else {
        return (None, None);
    };
    let (action, rest) = rest.split_once(" on resource: ").unwrap_or((rest, ""));
    let action = action.split_whitespace().next();
    let resource = rest.split_whitespace().next().map(|r| r.trim_matches('"'));
    (action, resource.filter(|r| !r.is_empty()))
}

/// Where the SDK's default chain looks, and what this process has of it.
fn credential_sources() -> String {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut found = Vec::new();
    if set("AWS_ACCESS_KEY_ID") {
        found.push("AWS_ACCESS_KEY_ID");
    }
    if set("AWS_SESSION_TOKEN") {
        found.push("AWS_SESSION_TOKEN");
    }
    if set("AWS_PROFILE") {
        found.push("AWS_PROFILE");
    }
    if set("AWS_WEB_IDENTITY_TOKEN_FILE") && set("AWS_ROLE_ARN") {
        found.push("IRSA (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)");
    }
    if set("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        found.push("EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI)");
    }
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "from the profile or us-east-1".into());
    let found = if found.is_empty() {
        "none of them is set".to_owned()
    } else {
        format!("set here: {}", found.join(", "))
    };
    format!(
        "The operator looks in the AWS default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, IRSA, EKS Pod Identity, then instance metadata ({found}); region {region}"
    )
}

/// Whether the SDK failed because its credentials provider found nothing.
fn lacks_credentials(err: Option<&(dyn std::error::Error + 'static)>) -> bool {
    let mut source = err;
    while let Some(e) = source {
        if e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// `AwsThrottled` → `aws_throttled`.
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Turns "not found" into `None`, keeping every other error.
pub fn found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(code: &str) -> Error {
        Error::Aws {
            operation: "CreateChannel",
            code: code.into(),
            message: "m".into(),
            source: None,
        }
    }

    #[test]
    fn the_metric_label_is_the_reason_in_snake_case() {
        let cases = [
            (aws("TooManyRequestsException"), "AwsThrottled", "aws_throttled"),
            (aws("InternalServerErrorException"), "AwsUnavailable", "aws_unavailable"),
            (aws("BadRequestException"), "AwsError", "aws_error"),
            (
                Error::ChangeRefused(Box::new(aws("UnprocessableEntityException"))),
                "ChangeRefused",
                "change_refused",
            ),
            (aws("AccessDeniedException"), "AwsAccessDenied", "aws_access_denied"),
            (aws("SignatureDoesNotMatch"), "AwsCredentials", "aws_credentials"),
            (aws(QUOTA_EXCEEDED), "AwsQuotaExceeded", "aws_quota_exceeded"),
            (aws("TooManyDistributions"), "AwsQuotaExceeded", "aws_quota_exceeded"),
            (Error::Invalid("x".into()), "InvalidSpec", "invalid_spec"),
            (Error::Conflict("x".into()), "NameConflict", "name_conflict"),
            (Error::Waiting("x".into()), "Waiting", "waiting"),
            (
                Error::StreamKey {
                    reason: "StreamKeyForbidden",
                    message: "x".into(),
                },
                "StreamKeyForbidden",
                "stream_key",
            ),
        ];
        for (error, reason, label) in cases {
            assert_eq!(
                (error.reason(), error.metric_label().as_str()),
                (reason, label),
                "{error}"
            );
        }
    }

    #[test]
    fn refusals_say_what_to_grant_and_where_credentials_were_looked_for() {
        let denied = Error::Aws {
            operation: "DeleteChannel",
            code: "AccessDeniedException".into(),
            message: "User: arn:aws:iam::1:user/op is not authorized to perform: medialive:DeleteChannel on resource: arn:aws:medialive:us-east-1:1:channel:7 because no identity-based policy allows the medialive:DeleteChannel action".into(),
            source: None,
        };
        let text = denied.to_string();
        assert!(
            text.contains("Grant medialive:DeleteChannel on arn:aws:medialive:us-east-1:1:channel:7 to the operator's IAM identity"),
            "{text}"
        );
        let s3 = denied_action(
            "User: u is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because x",
        );
        assert_eq!(s3, (Some("s3:PutObject"), Some("arn:aws:s3:::b/k")));
        let expired = aws("ExpiredTokenException").to_string();
        assert!(
            expired.contains("session token has expired") && expired.contains("AWS default chain"),
            "{expired}"
        );
        assert!(!aws("BadRequestException").to_string().contains("default chain"));
    }

    #[test]
    fn a_quota_refusal_names_the_quota_and_the_command_that_raises_it() {
        let full = Error::Aws {
            operation: "CreateChannel",
            code: QUOTA_EXCEEDED.into(),
            message: "You've reached the quota of 10 channels in channel group livestream".into(),
            source: None,
        };
        let text = full.to_string();
        for part in [
            "quota of 10 channels in channel group livestream",
            "quota of channels per channel group is reached (AWS's default is 10",
            "aws service-quotas request-service-quota-increase --service-code mediapackagev2",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        // The same code from another operation names that operation's quota.
        let groups = Error::Aws {
            operation: "CreateChannelGroup",
            code: QUOTA_EXCEEDED.into(),
            message: "m".into(),
            source: None,
        };
        assert!(groups.to_string().contains("channel groups per account"), "{groups}");
        assert!(!aws("ConflictException").to_string().contains("service-quotas"));
        // MediaLive says "Limit exceeded" with the code it throttles with: a quota, not throttling.
        let inputs = Error::Aws {
            operation: "CreateInput",
            code: "TooManyRequestsException".into(),
            message: "Limit exceeded: this account already has the maximum of 5 push inputs".into(),
            source: None,
        };
        assert_eq!((inputs.reason(), inputs.is_transient()), ("AwsQuotaExceeded", false));
        assert!(inputs.to_string().contains("--service-code medialive"), "{inputs}");
        assert_eq!(aws("TooManyRequestsException").reason(), "AwsThrottled");
    }

    #[test]
    fn an_aws_error_keeps_the_sdk_error_as_its_source_and_reads_as_before() {
        use aws_sdk_medialive::operation::create_channel::CreateChannelError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::{body::SdkBody, error::ErrorMetadata};
        let service = CreateChannelError::generic(
            ErrorMetadata::builder()
                .code("BadRequestException")
                .message("role not found")
                .build(),
        );
        let raw = Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        let error = Error::aws("CreateChannel", SdkError::service_error(service, raw));
        assert_eq!(error.to_string(), "CreateChannel: BadRequestException: role not found");
        assert_eq!(
            (error.code(), error.reason()),
            (Some("BadRequestException"), "AwsError")
        );
        // source() walks to the SDK's error, and on to the service's.
        let sdk = std::error::Error::source(&error).expect("the SDK error");
        assert!(sdk.downcast_ref::<SdkError<CreateChannelError, Response>>().is_some());
        let chain: Vec<String> = std::iter::successors(Some(sdk), |e| e.source())
            .map(|e| e.to_string())
            .collect();
        assert!(chain.iter().any(|e| e.contains("role not found")), "{chain:?}");
        // A message with a stream key in it loses the SDK's error with its copy of the key.
        let target = crate::desired::ingest::IngestTarget::public(
            &serde_json::from_value(serde_json::json!({ "streamName": "live/secret" })).unwrap(),
        );
        assert!(std::error::Error::source(&error.redacted(&target)).is_none());
    }
}
