//! Reading the stream key from the Secret a LiveStream names. The operator holds no cluster-wide
//! Secret access: it GETs this one Secret by name, in the stream's namespace, and a namespace grants
//! that with a Role limited by `resourceNames`. Nothing is cached or watched, and no message quotes
//! the value.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};

use crate::{
    api::{LiveStream, SecretKeyRef},
    context::Context,
    desired::ingest::{RtmpTarget, StreamKey},
    error::{Error, Result},
};

/// Where the input should publish: the spec's stream name, or its app with the Secret's key.
pub(super) async fn rtmp_target(stream: &LiveStream, ctx: &Context) -> Result<RtmpTarget> {
    let input = &stream.spec.input;
    let Some(secret_ref) = &input.stream_key_secret_ref else {
        return Ok(RtmpTarget::public(input));
    };
    let namespace = stream.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets
        .get(&secret_ref.name)
        .await
        .map_err(|e| unreadable(ctx, &namespace, secret_ref, e))?;
    let value = secret.data.as_ref().and_then(|data| data.get(&secret_ref.key)).ok_or_else(|| {
            Error::StreamKey {
                reason: "StreamKeyMissing",
                message: format!(
                    "Secret {} has no key {:?} (set spec.input.streamKeySecretRef.key to the key that holds the stream key)",
                    secret_ref.name, secret_ref.key
                ),
            }
        })?;
    let key = StreamKey::parse(&value.0).map_err(|why| Error::StreamKey {
        reason: "StreamKeyInvalid",
        message: format!(
            "the value of key {:?} in Secret {} {why}: a stream key is 1–64 letters, digits, '-' or '_'",
            secret_ref.key, secret_ref.name
        ),
    })?;
    Ok(RtmpTarget::with_secret_key(input, secret_ref, key))
}

fn unreadable(ctx: &Context, namespace: &str, secret_ref: &SecretKeyRef, error: kube::Error) -> Error {
    let name = &secret_ref.name;
    match &error {
        kube::Error::Api(status) if status.code == 404 => Error::StreamKey {
            reason: "StreamKeySecretNotFound",
            message: format!(
                "Secret {name} does not exist in namespace {namespace}: `kubectl -n {namespace} create secret generic {name} --from-literal={}=<stream key>`",
                secret_ref.key
            ),
        },
        kube::Error::Api(status) if status.code == 403 => {
            let role = format!("livestream-stream-key-{name}");
            Error::StreamKey {
                reason: "StreamKeyForbidden",
                message: format!(
                    "the operator may not read Secret {name}; let it read just that Secret: `kubectl -n {namespace} create role {role} --verb=get --resource=secrets --resource-name={name}` and `kubectl -n {namespace} create rolebinding {role} --role={role} --serviceaccount={}`",
                    ctx.settings.service_account
                ),
            }
        }
        _ => Error::Kube(error),
    }
}
