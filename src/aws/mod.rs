//! The AWS I/O seam: the SDK clients the operator talks through, built the same way against real
//! AWS and against livestream-local (`AWS_ENDPOINT_URL` or `--aws-endpoint-url`), and one module
//! per kind of AWS resource a LiveStream owns, each behind the same faces (`Managed`): describe,
//! list, create, update, delete, and the pure comparison with what the spec wants. Adding a kind is
//! adding a module here, a `Kind` variant and its place in the plan.

pub mod access_control;
pub mod alerts;
pub mod channel;
mod channel_wire;
pub mod cloudfront;
mod endpoint;
pub mod harvest;
pub mod health;
mod input;
pub mod origin_endpoint;
mod package_channel;
pub mod package_v2;
pub mod page;
pub mod s3;
pub mod secret;
mod security_group;

use std::collections::HashMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_smithy_http_client::tls;

pub use channel::Channel;
pub use endpoint::{Endpoint, EndpointRequest};
pub use input::{Input, InputRequest};
pub use package_channel::{PackageChannel, PackageChannelRequest};
pub use security_group::SecurityGroup;

pub use crate::resource::{Kind, Ref, Role, Teardown};
use crate::{desired::tag, error::Result};

/// The only order AWS lets them be deleted in: a distribution fronts the origin, a channel holds
/// its input, an input its security group and the secret it decrypts with, an endpoint its MediaPackage channel (v1 and v2); the
/// player page, which links to all that, goes last. Creation goes the other way.
pub const TEARDOWN_ORDER: [Kind; 10] = [
    Kind::Distribution,
    Kind::Channel,
    Kind::Input,
    Kind::Secret,
    Kind::SecurityGroup,
    Kind::Endpoint,
    Kind::PackageChannel,
    Kind::OriginEndpoint,
    Kind::ChannelV2,
    Kind::Page,
];

/// Runs `$body` with `$k` the type of the kind `$kind`: the one place a kind is named by value.
macro_rules! each_kind {
    ($kind:expr, |$k:ident| $body:expr) => {
        $crate::aws::each_kind!(@match $kind, $k, $body;
            PackageChannel = $crate::aws::PackageChannel,
            Endpoint = $crate::aws::Endpoint,
            SecurityGroup = $crate::aws::SecurityGroup,
            Input = $crate::aws::Input,
            Secret = $crate::aws::secret::Secret,
            Channel = $crate::aws::Channel,
            ChannelV2 = $crate::aws::package_v2::ChannelV2,
            OriginEndpoint = $crate::aws::origin_endpoint::OriginEndpoint,
            Distribution = $crate::aws::cloudfront::Distribution,
            Page = $crate::aws::page::Page
        )
    };
    (@match $kind:expr, $k:ident, $body:expr; $($variant:ident = $type:ty),+) => {
        match $kind {
            $($crate::aws::Kind::$variant => {
                type $k = $type;
                $body
            })+
        }
    };
}
pub(crate) use each_kind;

/// Who a create is for: the owner tags every resource carries, and the stream's uid, from which
/// MediaLive request ids (idempotency tokens) are derived.
pub struct Owner<'a> {
    pub uid: &'a str,
    pub tags: &'a HashMap<String, String>,
    /// Which of the stream's resources of the kind this one is.
    pub role: Role,
}

impl Owner<'_> {
    /// The owner tags, with the role for a kind a stream holds several of.
    pub fn tags_with_role(&self) -> HashMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(tag::ROLE.to_owned(), self.role.as_str().to_owned());
        tags
    }
}

/// The faces every managed AWS resource shows the reconciler (crossplane-runtime's Observe /
/// Create / Update / Delete): what AWS describes, condensed to what the operator decides on.
pub trait Managed: Clone + Send + Sync + 'static {
    const KIND: Kind;
    /// The roles a stream's resources of this kind can have (one, `Main`, for most kinds).
    const ROLES: &'static [Role] = &[Role::Main];
    /// Teardown waits for it before the kinds after it; `false` for one that refers to nothing
    /// AWS checks once it is stepped down (a disabled distribution), so the rest goes meanwhile.
    const HOLDS_TEARDOWN: bool = true;
    /// What the spec asks for.
    type Desired: Send + Sync;

    /// Its id, as events and status name it.
    fn id(&self) -> &str;
    /// The `livestream.io/uid` tag.
    fn owner(&self) -> Option<&str>;
    /// Which of its owner's resources of the kind it is.
    fn role(&self) -> Role {
        Role::Main
    }
    /// It differs from the spec in something the operator owns (AWS's own defaults are not drift).
    fn differs(&self, desired: &Self::Desired) -> bool;
    /// What must happen before it can go: most kinds are deleted at once.
    fn teardown(&self) -> Teardown {
        Teardown::Delete { settles: false }
    }

    fn create(aws: &AwsClients, desired: &Self::Desired, owner: &Owner) -> impl Future<Output = Result<Self>> + Send;
    fn update(aws: &AwsClients, current: &Self, desired: &Self::Desired) -> impl Future<Output = Result<Self>> + Send;
    /// Stops it: ahead of its deletion when `teardown` says `Stop`, and a plan's stop step.
    fn stop(aws: &AwsClients, current: &Self) -> impl Future<Output = Result<Self>> + Send {
        let _ = aws;
        let unchanged = current.clone();
        async move { Ok(unchanged) }
    }
    /// Starts it (a plan's start step; only kinds that run, i.e. a MediaLive channel, are asked).
    fn start(aws: &AwsClients, current: &Self) -> impl Future<Output = Result<Self>> + Send {
        let _ = aws;
        let unchanged = current.clone();
        async move { Ok(unchanged) }
    }
    /// Before it is stopped to apply a change (`updatePolicy: Restart`): AWS would take `desired`
    /// as an update, asked without changing anything (a dry run). Kinds without one accept.
    fn validate_update(
        aws: &AwsClients,
        current: &Self,
        desired: &Self::Desired,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (aws, current, desired);
        async { Ok(()) }
    }
    /// "Already gone" is success; one AWS still sees in use is waited for.
    fn delete(aws: &AwsClients, current: &Self) -> impl Future<Output = Result<()>> + Send;
}

/// A resource streams share (a MediaPackage v2 channel group, a CloudFront origin access control,
/// a bucket): named, not owned — it carries the operator's mark, never a stream's owner tags —
/// made by the first stream that needs it and deleted with the last, if ever.
pub trait Shared {
    /// Creates it unless it exists.
    fn ensure(aws: &AwsClients, name: &str) -> impl Future<Output = Result<Ensured>> + Send;
    /// Deletes it if the operator made it and nothing uses it any more; `true` when it is gone.
    fn retire(aws: &AwsClients, name: &str) -> impl Future<Output = Result<bool>> + Send;
}

/// A shared resource that is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ensured {
    /// Its id (its name, for kinds AWS names by name).
    pub id: String,
    /// This call created it.
    pub created: bool,
}

/// The faces of a kind the operator-wide read cache reads by account-wide listings (MediaLive and
/// MediaPackage v1): a listing shows every stream's resources at once.
pub trait Listed: Managed {
    /// A List answer holds everything the plan needs (MediaLive's channel summaries lack the
    /// encoder settings, so a channel is always described).
    const LISTING_IS_COMPLETE: bool = true;
    /// AWS is still moving it (creating, deleting…): an answer about it holds for one pass only.
    fn settling(&self) -> bool {
        false
    }
    /// A List summary shows this full answer unchanged (only asked of kinds whose listing is not
    /// complete): the answer then serves until the operator's full-read bound.
    fn summary_agrees(&self, _summary: &Self) -> bool {
        false
    }
    /// `None`: not found (or deleted).
    fn describe(aws: &AwsClients, id: &str) -> impl Future<Output = Result<Option<Self>>> + Send;
    /// Every one in the account (all pages, 1,000 a page).
    fn list(aws: &AwsClients) -> impl Future<Output = Result<Vec<Self>>> + Send;
}

/// The owner uid in a resource's tags.
fn owner_of(tags: Option<&HashMap<String, String>>) -> Option<String> {
    tags.and_then(|t| t.get(tag::UID)).cloned()
}

/// `namespace/name` of the owning LiveStream, for messages about a name clash.
fn owner_name(tags: Option<&HashMap<String, String>>) -> Option<String> {
    let get = |k: &str| tags.and_then(|t| t.get(k));
    Some(format!("{}/{}", get(tag::NAMESPACE)?, get(tag::NAME)?))
}

/// The largest page MediaLive and MediaPackage List operations return.
const PAGE: i32 = 1000;

/// Where and how to reach AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// An endpoint for every service, e.g. livestream-local's `http://127.0.0.1:4580`; unset for AWS.
    pub endpoint_url: Option<String>,
    /// Region; unset reads `AWS_REGION` / the profile.
    pub region: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AwsClients {
    /// The custom endpoint in use (livestream-local), if any.
    pub endpoint_url: Option<String>,
    pub region: String,
    pub medialive: aws_sdk_medialive::Client,
    pub mediapackage: aws_sdk_mediapackage::Client,
    pub mediapackagev2: aws_sdk_mediapackagev2::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub s3: aws_sdk_s3::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
}

impl AwsClients {
    /// Loads credentials and region the standard way (environment, profile, IRSA / web identity,
    /// container and instance metadata). Against a custom endpoint without credentials in the
    /// environment, fixed local credentials are used: livestream-local accepts any.
    pub async fn load(settings: &AwsSettings) -> Self {
        // One rustls (ring) HTTP stack instead of the SDK default's two; see NOTES on build cost.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        // Adaptive retries: after a throttle, the client paces its own calls (a shared token bucket
        // per service) instead of every reconcile retrying into the limit on its own.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(aws_config::retry::RetryConfig::adaptive());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let endpoint = settings
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url);
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader =
                    loader.credentials_provider(Credentials::new("local", "local", None, None, "livestream-local"));
            }
            if settings.region.is_none() && std::env::var_os("AWS_REGION").is_none() {
                loader = loader.region(Region::new("us-east-1"));
            }
        }
        let config = loader.load().await;
        // Path-style S3 addressing: bucket names cannot become host names on a local endpoint.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint.is_some())
            .interceptor(CountCalls("s3"))
            .build();
        let medialive = aws_sdk_medialive::config::Builder::from(&config)
            .interceptor(CountCalls("medialive"))
            .build();
        let mediapackage = aws_sdk_mediapackage::config::Builder::from(&config)
            .interceptor(CountCalls("mediapackage"))
            .build();
        let mediapackagev2 = aws_sdk_mediapackagev2::config::Builder::from(&config)
            .interceptor(CountCalls("mediapackagev2"))
            .build();
        let secretsmanager = aws_sdk_secretsmanager::config::Builder::from(&config)
            .interceptor(CountCalls("secretsmanager"))
            .build();
        // CloudFront is global: its API is signed for us-east-1 whatever the stream's region.
        let cloudfront = aws_sdk_cloudfront::config::Builder::from(&config)
            .region(Region::new("us-east-1"))
            .interceptor(CountCalls("cloudfront"))
            .build();
        Self {
            endpoint_url: endpoint,
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string()),
            medialive: aws_sdk_medialive::Client::from_conf(medialive),
            mediapackage: aws_sdk_mediapackage::Client::from_conf(mediapackage),
            mediapackagev2: aws_sdk_mediapackagev2::Client::from_conf(mediapackagev2),
            cloudfront: aws_sdk_cloudfront::Client::from_conf(cloudfront),
            s3: aws_sdk_s3::Client::from_conf(s3),
            secretsmanager: aws_sdk_secretsmanager::Client::from_conf(secretsmanager),
        }
    }
}

/// Counts every call attempt in the metrics, by operation and outcome.
#[derive(Debug)]
struct CountCalls(&'static str);

impl aws_sdk_medialive::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_after_attempt(
        &self,
        context: &aws_sdk_medialive::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_medialive::config::RuntimeComponents,
        cfg: &mut aws_sdk_medialive::config::ConfigBag,
    ) -> Result<(), aws_sdk_medialive::error::BoxError> {
        let operation = cfg
            .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map_or("unknown", |m| m.name());
        let outcome = match context.response().map(|r| r.status().as_u16()) {
            None => "no_response",
            Some(429) => "throttled",
            // IAM or the credentials refused it: worth its own alert.
            Some(403) => "denied",
            Some(code) if code < 400 => "ok",
            Some(code) if code < 500 => "client_error",
            Some(_) => "server_error",
        };
        crate::metrics::count_aws_call(self.0, operation, outcome);
        if outcome == "ok" {
            health::answered();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{Channel, Input, Kind, Managed, Role, TEARDOWN_ORDER, Teardown};
    use aws_sdk_medialive::types::{ChannelState, InputState};

    #[test]
    fn teardown_stops_a_running_channel_then_deletes_in_dependency_order() {
        assert_eq!(
            TEARDOWN_ORDER,
            [
                Kind::Distribution,
                Kind::Channel,
                Kind::Input,
                Kind::Secret,
                Kind::SecurityGroup,
                Kind::Endpoint,
                Kind::PackageChannel,
                Kind::OriginEndpoint,
                Kind::ChannelV2,
                Kind::Page
            ]
        );
        let channel = |state| Channel {
            id: "9".into(),
            arn: None,
            owner: None,
            state,
            settings: None,
            corrected: None,
        };
        for state in [ChannelState::Running, ChannelState::Starting, ChannelState::Recovering] {
            assert_eq!(channel(state).teardown(), Teardown::Stop);
        }
        for state in [
            ChannelState::Idle,
            ChannelState::CreateFailed,
            ChannelState::UpdateFailed,
        ] {
            assert_eq!(channel(state).teardown(), Teardown::Delete { settles: true });
        }
        for state in [
            ChannelState::Creating,
            ChannelState::Stopping,
            ChannelState::Updating,
            ChannelState::Deleting,
        ] {
            assert!(matches!(channel(state).teardown(), Teardown::Wait(_)));
        }
        let input = |state| Input {
            input_type: None,
            srt: None,
            id: "5".into(),
            owner: None,
            role: Role::Primary,
            state,
            url: None,
            urls: Vec::new(),
            security_groups: Vec::new(),
        };
        assert_eq!(
            input(InputState::Detached).teardown(),
            Teardown::Delete { settles: true }
        );
        for state in [InputState::Attached, InputState::Creating, InputState::Deleting] {
            assert!(matches!(input(state).teardown(), Teardown::Wait(_)));
        }
    }

    fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// The AWS I/O seam is one directory: a call sent from anywhere else is a defect.
    #[test]
    fn every_aws_sdk_call_is_sent_from_src_aws() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let outside: Vec<String> = files
            .iter()
            .filter(|f| !f.starts_with(root.join("aws")))
            .filter(|f| std::fs::read_to_string(f).unwrap().contains(".send()"))
            .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        assert!(files.len() > 50, "the walk found the sources");
        assert!(outside.is_empty(), "SDK calls outside src/aws/: {outside:?}");
    }
}
