//! The AWS I/O seam: the three SDK clients the operator talks through, built the same way against
//! real AWS and against livestream-local (`AWS_ENDPOINT_URL` or `--aws-endpoint-url`).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::Credentials;
use aws_smithy_http_client::tls;

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
    pub medialive: aws_sdk_medialive::Client,
    pub mediapackage: aws_sdk_mediapackage::Client,
    pub s3: aws_sdk_s3::Client,
}

impl AwsClients {
    /// Loads credentials and region the standard way (environment, profile, IRSA / web identity,
    /// container and instance metadata). Against a custom endpoint without credentials in the
    /// environment, fixed local credentials are used: livestream-local accepts any.
    pub async fn load(settings: &AwsSettings) -> Self {
        // One rustls (ring) HTTP stack instead of the SDK default's two; see NOTES on build cost.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
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
                loader = loader.credentials_provider(Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "livestream-local",
                ));
            }
            if settings.region.is_none() && std::env::var_os("AWS_REGION").is_none() {
                loader = loader.region(Region::new("us-east-1"));
            }
        }
        let config = loader.load().await;
        // Path-style S3 addressing: bucket names cannot become host names on a local endpoint.
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint.is_some())
            .build();
        Self {
            medialive: aws_sdk_medialive::Client::new(&config),
            mediapackage: aws_sdk_mediapackage::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
        }
    }
}
