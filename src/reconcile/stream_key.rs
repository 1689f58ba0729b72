//! Reading the stream key, or the SRT passphrase, from the Secret a LiveStream names. The operator holds no cluster-wide
//! Secret access: it GETs this one Secret by name, in the stream's namespace, and a namespace grants
//! that with a Role limited by `resourceNames`. Nothing is cached or watched, and no message quotes
//! the value.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};

use crate::{
    api::{IngestProtocol, LiveStream, SecretKeyRef},
    context::Context,
    desired::ingest::{IngestTarget, StreamKey},
    desired::srt::{Passphrase, SrtTarget},
    error::{Error, Result},
};

/// Where the input should publish: the spec's stream name, or its app with the Secret's key.
pub(super) async fn ingest_target(stream: &LiveStream, ctx: &Context) -> Result<IngestTarget> {
    let input = &stream.spec.input;
    if let (IngestProtocol::Srt, Some(srt)) = (input.protocol, &input.srt) {
        let secret_ref = SecretKeyRef {
            name: srt.passphrase_secret_ref.name.clone(),
            key: srt.passphrase_secret_ref.key.clone(),
        };
        let (secret, value) = read(stream, ctx, &secret_ref, "Passphrase", "the SRT passphrase").await?;
        let passphrase = Passphrase::parse(&value).map_err(|why| Error::StreamKey {
            reason: "PassphraseInvalid",
            message: format!(
                "the value of key {:?} in Secret {} {why}: an SRT passphrase is 10–79 characters",
                secret_ref.key, secret_ref.name
            ),
        })?;
        let uid = secret.metadata.uid.unwrap_or_default();
        return Ok(IngestTarget::Srt(SrtTarget::of(srt, passphrase, uid)));
    }
    let Some(secret_ref) = &input.stream_key_secret_ref else {
        return Ok(IngestTarget::public(input));
    };
    let (_, value) = read(stream, ctx, secret_ref, "StreamKey", "the stream key").await?;
    let key = StreamKey::parse(&value).map_err(|why| Error::StreamKey {
        reason: "StreamKeyInvalid",
        message: format!(
            "the value of key {:?} in Secret {} {why}: a stream key is 1–64 letters, digits, '-' or '_'",
            secret_ref.key, secret_ref.name
        ),
    })?;
    Ok(IngestTarget::with_secret_key(input, secret_ref, key))
}

/// The Secret and the value of its key; `what` names the value in messages, `prefix` the reasons
/// (`StreamKeyMissing`, `PassphraseForbidden`…).
async fn read(
    stream: &LiveStream,
    ctx: &Context,
    secret_ref: &SecretKeyRef,
    prefix: &'static str,
    what: &str,
) -> Result<(Secret, Vec<u8>)> {
    let namespace = stream.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets
        .get(&secret_ref.name)
        .await
        .map_err(|e| unreadable(ctx, &namespace, secret_ref, e, prefix, what))?;
    let value = secret
        .data
        .as_ref()
        .and_then(|data| data.get(&secret_ref.key))
        .ok_or_else(|| Error::StreamKey {
            reason: reason(prefix, "Missing"),
            message: format!(
                "Secret {} has no key {:?} (set the secret reference's key to the key that holds {what})",
                secret_ref.name, secret_ref.key
            ),
        })?;
    let value = value.0.clone();
    Ok((secret, value))
}

/// `StreamKey` + `Missing`: the reasons are few and fixed, so they are leaked once each.
fn reason(prefix: &'static str, what: &'static str) -> &'static str {
    match (prefix, what) {
        ("Passphrase", "Missing") => "PassphraseMissing",
        ("Passphrase", "SecretNotFound") => "PassphraseSecretNotFound",
        ("Passphrase", _) => "PassphraseForbidden",
        (_, "Missing") => "StreamKeyMissing",
        (_, "SecretNotFound") => "StreamKeySecretNotFound",
        _ => "StreamKeyForbidden",
    }
}

fn unreadable(
    ctx: &Context,
    namespace: &str,
    secret_ref: &SecretKeyRef,
    error: kube::Error,
    prefix: &'static str,
    what: &str,
) -> Error {
    let name = &secret_ref.name;
    match &error {
        kube::Error::Api(status) if status.code == 404 => Error::StreamKey {
            reason: reason(prefix, "SecretNotFound"),
            message: format!(
                "Secret {name} does not exist in namespace {namespace}: `kubectl -n {namespace} create secret generic {name} --from-literal={}=<{what}>`",
                secret_ref.key
            ),
        },
        kube::Error::Api(status) if status.code == 403 => {
            let role = format!(
                "livestream-{}-{name}",
                if prefix == "Passphrase" { "srt" } else { "stream-key" }
            );
            Error::StreamKey {
                reason: reason(prefix, "Forbidden"),
                message: format!(
                    "the operator may not read Secret {name}; let it read just that Secret: `kubectl -n {namespace} create role {role} --verb=get --resource=secrets --resource-name={name}` and `kubectl -n {namespace} create rolebinding {role} --role={role} --serviceaccount={}`",
                    ctx.settings.service_account
                ),
            }
        }
        _ => Error::Kube(error),
    }
}
