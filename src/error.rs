//! Why a reconcile did not finish. Each variant names what failed and maps to a metric label; AWS
//! errors keep the service's error code so conditions and events say what to do.

use std::fmt::Debug;

use aws_sdk_medialive::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    #[error("{operation}: {code}: {message}")]
    Aws {
        operation: &'static str,
        code: String,
        message: String,
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

    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an SDK error with the operation it came from.
    pub fn aws<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug,
    {
        let code = err.code().unwrap_or("Unknown").to_owned();
        let message = err
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
        Error::Aws {
            operation,
            code,
            message,
        }
    }

    /// The same error with a stream key taken out of the service's message.
    pub fn redacted(self, target: &crate::desired::ingest::RtmpTarget) -> Self {
        match self {
            Error::Aws {
                operation,
                code,
                message,
            } => Error::Aws {
                operation,
                code,
                message: target.redact(&message),
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
        self.code() == Some("NotFoundException")
    }

    /// Throttling and server-side failures: retry with backoff rather than report at once.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code(),
            Some(
                "TooManyRequestsException"
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
            Error::Aws { code, .. } if code == "TooManyRequestsException" => "AwsThrottled",
            Error::Aws { .. } if self.is_transient() => "AwsUnavailable",
            Error::Aws { .. } => "AwsError",
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
        matches!(self, Error::Aws { operation: "CreateChannel", code, .. } if code == "UnprocessableEntityException")
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
        }
    }

    #[test]
    fn the_metric_label_is_the_reason_in_snake_case() {
        let cases = [
            (aws("TooManyRequestsException"), "AwsThrottled", "aws_throttled"),
            (aws("InternalServerErrorException"), "AwsUnavailable", "aws_unavailable"),
            (aws("BadRequestException"), "AwsError", "aws_error"),
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
}
