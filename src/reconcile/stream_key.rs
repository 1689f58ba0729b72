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
        let (secret, value) = read(stream, ctx, &secret_ref, &PASSPHRASE).await?;
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
    let (_, value) = read(stream, ctx, secret_ref, &STREAM_KEY).await?;
    let key = StreamKey::parse(&value).map_err(|why| Error::StreamKey {
        reason: "StreamKeyInvalid",
        message: format!(
            "the value of key {:?} in Secret {} {why}: a stream key is 1–64 letters, digits, '-' or '_'",
            secret_ref.key, secret_ref.name
        ),
    })?;
    Ok(IngestTarget::with_secret_key(input, secret_ref, key))
}

/// What one kind of credential in a Secret is called in conditions and messages.
struct Credential {
    /// Placeholder for the value in the quoted `kubectl create secret` command.
    placeholder: &'static str,
    /// The spec field that names the key.
    key_field: &'static str,
    /// What the value is, in a sentence.
    what: &'static str,
    /// The Role the forbidden message proposes is `livestream-<role>-<secret>`.
    role: &'static str,
    missing: &'static str,
    not_found: &'static str,
    forbidden: &'static str,
}

const STREAM_KEY: Credential = Credential {
    placeholder: "<stream key>",
    key_field: "spec.input.streamKeySecretRef.key",
    what: "the stream key",
    role: "stream-key",
    missing: "StreamKeyMissing",
    not_found: "StreamKeySecretNotFound",
    forbidden: "StreamKeyForbidden",
};

const PASSPHRASE: Credential = Credential {
    placeholder: "<passphrase>",
    key_field: "spec.input.srt.passphraseSecretRef.key",
    what: "the SRT passphrase",
    role: "srt",
    missing: "PassphraseMissing",
    not_found: "PassphraseSecretNotFound",
    forbidden: "PassphraseForbidden",
};

/// The Secret and the value of its key.
async fn read(
    stream: &LiveStream,
    ctx: &Context,
    secret_ref: &SecretKeyRef,
    credential: &Credential,
) -> Result<(Secret, Vec<u8>)> {
    let namespace = stream.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets
        .get(&secret_ref.name)
        .await
        .map_err(|e| unreadable(ctx, &namespace, secret_ref, e, credential))?;
    let value = secret
        .data
        .as_ref()
        .and_then(|data| data.get(&secret_ref.key))
        .ok_or_else(|| Error::StreamKey {
            reason: credential.missing,
            message: format!(
                "Secret {} has no key {:?} (set {} to the key that holds {})",
                secret_ref.name, secret_ref.key, credential.key_field, credential.what
            ),
        })?;
    let value = value.0.clone();
    Ok((secret, value))
}

fn unreadable(
    ctx: &Context,
    namespace: &str,
    secret_ref: &SecretKeyRef,
    error: kube::Error,
    credential: &Credential,
) -> Error {
    let name = &secret_ref.name;
    match &error {
        kube::Error::Api(status) if status.code == 404 => Error::StreamKey {
            reason: credential.not_found,
            message: format!(
                "Secret {name} does not exist in namespace {namespace}: `kubectl -n {namespace} create secret generic {name} --from-literal={}={}`",
                secret_ref.key, credential.placeholder
            ),
        },
        kube::Error::Api(status) if status.code == 403 => {
            let role = format!("livestream-{}-{name}", credential.role);
            Error::StreamKey {
                reason: credential.forbidden,
                message: format!(
                    "the operator may not read Secret {name}; let it read just that Secret: `kubectl -n {namespace} create role {role} --verb=get --resource=secrets --resource-name={name}` and `kubectl -n {namespace} create rolebinding {role} --role={role} --serviceaccount={}`",
                    ctx.settings.service_account
                ),
            }
        }
        _ => Error::Kube(error),
    }
}
