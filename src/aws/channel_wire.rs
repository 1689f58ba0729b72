//! The channel's requests as documents. The channel is a document — the typed ladder plus the
//! user's overrides, which may hold any member of MediaLive's model — so the SDK sends a request
//! whose body is that document in wire names (endpoint, signing, retries and the typed answer stay
//! the SDK's), and the answer is also kept as the document it is, for drift and status.

use std::sync::{Arc, Mutex};

use aws_sdk_medialive::config::{
    ConfigBag, Intercept, RuntimeComponents, interceptors::AfterDeserializationInterceptorContextRef,
};
use aws_sdk_medialive::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde_json::Value;

use crate::error::Error;

/// Sets the request's body to `body` (in wire names), before it is signed.
pub fn body(body: &Value) -> impl Fn(&mut HttpRequest) + Send + Sync + 'static {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    move |request| {
        request.headers_mut().insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes.clone());
    }
}

/// Keeps the answer's JSON body.
#[derive(Clone, Debug, Default)]
pub struct Answer(Arc<Mutex<Option<Value>>>);

impl Answer {
    pub fn take(&self) -> Option<Value> {
        self.0.lock().ok()?.take()
    }
}

impl Intercept for Answer {
    fn name(&self) -> &'static str {
        "ChannelAnswer"
    }

    /// The body has been read by then (a MediaLive answer is never streamed).
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let parsed = (context.response().body().bytes()).and_then(|b| serde_json::from_slice(b).ok());
        if let (Some(value), Ok(mut kept)) = (parsed, self.0.lock()) {
            *kept = Some(value);
        }
        Ok(())
    }
}

/// A refusal with MediaLive's validation errors (`elementPath: errorMessage`) in its message.
pub fn refusal<E, R>(operation: &'static str, err: SdkError<E, R>, errors: Vec<(String, String)>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match Error::aws(operation, err) {
        Error::Aws {
            operation,
            code,
            message,
            source,
        } if !errors.is_empty() => {
            let listed: Vec<String> = errors.iter().map(|(path, why)| format!("{path}: {why}")).collect();
            let listed = listed.join("; ");
            let message = if message.contains(&listed) {
                message
            } else {
                format!("{message} [{listed}]")
            };
            Error::Aws {
                operation,
                code,
                message,
                source,
            }
        }
        other => other,
    }
}

/// The validation errors of a 422, as (elementPath, errorMessage).
pub fn validation_errors(errors: &[aws_sdk_medialive::types::ValidationError]) -> Vec<(String, String)> {
    (errors.iter())
        .map(|e| {
            let path = e.element_path().unwrap_or_default().to_owned();
            (path, e.error_message().unwrap_or_default().to_owned())
        })
        .collect()
}
