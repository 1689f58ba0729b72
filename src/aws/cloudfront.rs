//! CloudFront: the stream's distribution and the shared origin access controls. A distribution is
//! found by its id (status) or, after a crash before status named it, by the uid in its comment
//! (ListDistributions carries no tags); creates carry a uid-derived `CallerReference`, so a retry
//! cannot make a second one. Every change sends the current ETag (`If-Match`).
//!
//! Cache behaviours use CloudFront's legacy cache settings (`ForwardedValues` and TTLs in the
//! behaviour), which the SDK marks deprecated in favour of cache policies but which CloudFront
//! fully serves: they keep each distribution self-contained, where a cache policy is one more
//! account-wide resource (20 custom policies per account) to create, share and retire.
#![allow(deprecated)]

use std::collections::HashMap;

use aws_sdk_cloudfront::types::{
    AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CookiePreference, CustomOriginConfig,
    DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags, ForwardedValues, HttpVersion, ItemSelection,
    Method, Origin, OriginProtocolPolicy, Origins, PriceClass, QueryStringCacheKeys, S3OriginConfig, Tag, Tags,
    ViewerProtocolPolicy,
};

use aws_sdk_cloudfront::primitives::DateTime;

use super::{
    AwsClients, Kind, Managed, Owner, Shared, Teardown,
    access_control::{OriginAccessControl, oac_for},
};
use crate::{
    desired::cloudfront::{self, Behavior, DistributionRequest, OriginAccess, Shape},
    error::{Error, Result},
};

/// The stream's distribution, condensed to what the operator decides on.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    pub id: String,
    pub arn: String,
    pub domain: String,
    /// InProgress or Deployed.
    pub status: String,
    pub e_tag: Option<String>,
    pub shape: Shape,
    /// Kept on update: CloudFront refuses a changed one.
    pub caller_reference: String,
    /// The origin access control its bucket origin signs with.
    pub oac_id: Option<String>,
    /// When CloudFront last changed it: a listing showing the same time and status shows it
    /// unchanged.
    pub last_modified: Option<DateTime>,
}

impl Distribution {
    pub fn enabled(&self) -> bool {
        self.shape.enabled
    }

    pub fn deployed(&self) -> bool {
        self.status == "Deployed"
    }

    /// The account id, from the ARN (`arn:aws:cloudfront::<account>:distribution/<id>`).
    pub fn account(&self) -> Option<&str> {
        self.arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

pub(super) fn not_found(e: &Error) -> bool {
    matches!(e.code(), Some("NoSuchDistribution" | "NoSuchOriginAccessControl"))
}

/// A distribution as a listing names it: its id, the comment that names its stream, and what says
/// whether it changed.
#[derive(Clone, Debug)]
pub struct Listed {
    pub id: String,
    pub comment: String,
    pub status: String,
    pub last_modified: DateTime,
}

impl Listed {
    /// The listing shows `seen` as it was read.
    pub fn shows_unchanged(&self, seen: &Distribution) -> bool {
        self.id == seen.id && self.status == seen.status && Some(&self.last_modified) == seen.last_modified.as_ref()
    }
}

/// Every distribution of the account, by id and comment (pages of 100: a 1,000-summary answer is
/// megabytes the allocator keeps).
pub async fn list(aws: &AwsClients) -> Result<Vec<Listed>> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = (aws.cloudfront.list_distributions())
            .set_marker(marker.clone())
            .max_items(100)
            .send()
            .await
            .map_err(|e| Error::aws("ListDistributions", e))?;
        let Some(list) = page.distribution_list else {
            return Ok(all);
        };
        all.extend((list.items.into_iter().flatten()).map(|s| Listed {
            id: s.id,
            comment: s.comment,
            status: s.status,
            last_modified: s.last_modified_time,
        }));
        match list.next_marker.filter(|_| list.is_truncated) {
            Some(next) => marker = Some(next),
            None => return Ok(all),
        }
    }
}

/// The stream's distribution: by the id status caches, else by the uid in a comment of `listed`
/// (a listing the caller shares between streams).
pub async fn find<L>(aws: &AwsClients, cached: Option<&str>, uid: &str, listed: L) -> Result<Option<Distribution>>
where
    L: Future<Output = Result<std::sync::Arc<Vec<Listed>>>>,
{
    if let Some(id) = cached
        && let Some(d) = get(aws, id).await?
        && cloudfront::owned_by(&d.shape.comment, uid)
    {
        return Ok(Some(d));
    }
    let listed = listed.await?;
    match listed.iter().find(|s| cloudfront::owned_by(&s.comment, uid)) {
        Some(mine) => get(aws, &mine.id).await,
        None => Ok(None),
    }
}

pub async fn get(aws: &AwsClients, id: &str) -> Result<Option<Distribution>> {
    let got = aws.cloudfront.get_distribution().id(id).send().await;
    let out = match got.map_err(|e| Error::aws("GetDistribution", e)) {
        Ok(out) => out,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(out.distribution.map(|d| {
        let config = d.distribution_config.as_ref();
        Distribution {
            shape: config.map(shape_of).unwrap_or_default(),
            caller_reference: config.map(|c| c.caller_reference.clone()).unwrap_or_default(),
            oac_id: (config
                .and_then(|c| c.origins.as_ref())
                .into_iter()
                .flat_map(|o| &o.items))
            .find_map(|o| o.origin_access_control_id.clone())
            .filter(|id| !id.is_empty()),
            last_modified: Some(d.last_modified_time),
            id: d.id,
            arn: d.arn,
            domain: d.domain_name,
            status: d.status,
            e_tag: out.e_tag,
        }
    }))
}

pub async fn create(
    aws: &AwsClients,
    want: &DistributionRequest,
    oac: &str,
    tags: &HashMap<String, String>,
) -> Result<Distribution> {
    let mut items: Vec<Tag> = (tags.iter())
        .map(|(k, v)| Tag::builder().key(k).value(v).build().expect("key set"))
        .collect();
    items.sort_by(|a, b| a.key.cmp(&b.key));
    let with_tags = DistributionConfigWithTags::builder()
        .distribution_config(config(want, &want.caller_reference, oac)?)
        .tags(Tags::builder().set_items(Some(items)).build())
        .build();
    let out = (aws.cloudfront.create_distribution_with_tags())
        .distribution_config_with_tags(with_tags)
        .send()
        .await
        .map_err(|e| Error::aws("CreateDistributionWithTags", e))?;
    let id = out.distribution.map(|d| d.id).unwrap_or_default();
    get(aws, &id)
        .await?
        .ok_or_else(|| Error::Waiting(format!("CloudFront distribution {id} is not visible yet")))
}

/// Sends the spec's config (with the distribution's own caller reference) under its ETag.
pub async fn update(aws: &AwsClients, current: &Distribution, want: &Shape, oac: &str) -> Result<Distribution> {
    let request = DistributionRequest {
        caller_reference: current.caller_reference.clone(),
        shape: want.clone(),
    };
    (aws.cloudfront.update_distribution())
        .id(&current.id)
        .set_if_match(current.e_tag.clone())
        .distribution_config(config(&request, &current.caller_reference, oac)?)
        .send()
        .await
        .map_err(|e| Error::aws("UpdateDistribution", e))?;
    get(aws, &current.id)
        .await?
        .ok_or_else(|| Error::Waiting(format!("CloudFront distribution {} is gone", current.id)))
}

/// Deletes a disabled, deployed distribution; already gone is success.
pub async fn delete(aws: &AwsClients, current: &Distribution) -> Result<()> {
    let deleted = (aws.cloudfront.delete_distribution())
        .id(&current.id)
        .set_if_match(current.e_tag.clone())
        .send()
        .await
        .map_err(|e| Error::aws("DeleteDistribution", e));
    match deleted {
        Err(e) if not_found(&e) => Ok(()),
        other => other.map(drop),
    }
}

fn invalid(what: &str) -> impl FnOnce(aws_sdk_cloudfront::error::BuildError) -> Error + '_ {
    move |e| Error::Invalid(format!("CloudFront {what}: {e}"))
}

/// The full distribution config for `want` (UpdateDistribution replaces the whole config).
fn config(want: &DistributionRequest, caller_reference: &str, oac: &str) -> Result<DistributionConfig> {
    let shape = &want.shape;
    let origins = (shape.origins.iter())
        .map(|o| origin(o, oac))
        .collect::<Result<Vec<_>>>()?;
    let behaviors = (shape.behaviors.iter())
        .map(cache_behavior)
        .collect::<Result<Vec<_>>>()?;
    let origins = Origins::builder()
        .quantity(origins.len() as i32)
        .set_items(Some(origins))
        .build()
        .map_err(invalid("origins"))?;
    let behaviors = CacheBehaviors::builder()
        .quantity(behaviors.len() as i32)
        .set_items((!behaviors.is_empty()).then_some(behaviors))
        .build()
        .map_err(invalid("cache behaviours"))?;
    let b = &shape.default_behavior;
    let default = DefaultCacheBehavior::builder()
        .target_origin_id(&b.origin)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(methods()?)
        .compress(false)
        .forwarded_values(forwarded(b)?)
        .min_ttl(b.min_ttl)
        .default_ttl(b.default_ttl)
        .max_ttl(b.max_ttl)
        .build()
        .map_err(invalid("default cache behaviour"))?;
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(&shape.comment)
        .enabled(shape.enabled)
        .price_class(PriceClass::from(shape.price_class.as_str()))
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .origins(origins)
        .default_cache_behavior(default)
        .cache_behaviors(behaviors)
        .build()
        .map_err(invalid("distribution config"))
}

fn origin(o: &cloudfront::Origin, oac: &str) -> Result<Origin> {
    let builder = Origin::builder().id(&o.id).domain_name(&o.domain).origin_path("");
    let builder = match o.access {
        OriginAccess::Custom { port, https } => {
            let protocol = if https {
                OriginProtocolPolicy::HttpsOnly
            } else {
                OriginProtocolPolicy::HttpOnly
            };
            let (http, https_port) = if https { (80, port) } else { (port, 443) };
            let custom = CustomOriginConfig::builder()
                .http_port(i32::from(http))
                .https_port(i32::from(https_port))
                .origin_protocol_policy(protocol)
                .build()
                .map_err(invalid("custom origin"))?;
            builder.custom_origin_config(custom)
        }
        OriginAccess::S3 { signed } => {
            // An origin access control, not the legacy identity (left empty, as AWS asks).
            let s3 = S3OriginConfig::builder().origin_access_identity("").build();
            let builder = builder.s3_origin_config(s3);
            if signed {
                builder.origin_access_control_id(oac)
            } else {
                builder
            }
        }
    };
    builder.build().map_err(invalid("origin"))
}

fn cache_behavior(b: &Behavior) -> Result<CacheBehavior> {
    CacheBehavior::builder()
        .path_pattern(b.path_pattern.clone().unwrap_or_default())
        .target_origin_id(&b.origin)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(methods()?)
        .compress(true)
        .forwarded_values(forwarded(b)?)
        .min_ttl(b.min_ttl)
        .default_ttl(b.default_ttl)
        .max_ttl(b.max_ttl)
        .build()
        .map_err(invalid("cache behaviour"))
}

/// GET, HEAD and OPTIONS (CORS preflights of players on other sites), GET and HEAD cached.
fn methods() -> Result<AllowedMethods> {
    let cached = CachedMethods::builder()
        .quantity(2)
        .items(Method::Get)
        .items(Method::Head)
        .build()
        .map_err(invalid("cached methods"))?;
    AllowedMethods::builder()
        .quantity(3)
        .items(Method::Get)
        .items(Method::Head)
        .items(Method::Options)
        .cached_methods(cached)
        .build()
        .map_err(invalid("allowed methods"))
}

fn forwarded(b: &Behavior) -> Result<ForwardedValues> {
    let cookies = CookiePreference::builder()
        .forward(ItemSelection::None)
        .build()
        .map_err(invalid("cookies"))?;
    let keys = QueryStringCacheKeys::builder()
        .quantity(b.query_strings.len() as i32)
        .set_items((!b.query_strings.is_empty()).then(|| b.query_strings.clone()))
        .build()
        .map_err(invalid("query string cache keys"))?;
    ForwardedValues::builder()
        .query_string(!b.query_strings.is_empty())
        .cookies(cookies)
        .query_string_cache_keys(keys)
        .build()
        .map_err(invalid("forwarded values"))
}

fn behavior_of(pattern: Option<String>, origin: &str, fv: Option<&ForwardedValues>, ttl: [Option<i64>; 3]) -> Behavior {
    let mut query_strings: Vec<String> = fv
        .filter(|f| f.query_string)
        .and_then(|f| f.query_string_cache_keys.as_ref())
        .and_then(|k| k.items.clone())
        .unwrap_or_default();
    query_strings.sort();
    Behavior {
        path_pattern: pattern,
        origin: origin.to_owned(),
        query_strings,
        min_ttl: ttl[0].unwrap_or_default(),
        default_ttl: ttl[1].unwrap_or_default(),
        max_ttl: ttl[2].unwrap_or_default(),
    }
}

/// The operator's part of a config CloudFront describes.
fn shape_of(c: &DistributionConfig) -> Shape {
    let mut origins: Vec<cloudfront::Origin> = (c.origins.iter().flat_map(|o| &o.items))
        .map(|o| cloudfront::Origin {
            id: o.id.clone(),
            domain: o.domain_name.clone(),
            access: match &o.custom_origin_config {
                Some(custom) => {
                    let https = custom.origin_protocol_policy == OriginProtocolPolicy::HttpsOnly;
                    let port = if https { custom.https_port } else { custom.http_port };
                    OriginAccess::Custom {
                        port: u16::try_from(port).unwrap_or_default(),
                        https,
                    }
                }
                None => OriginAccess::S3 {
                    signed: o.origin_access_control_id.as_deref().is_some_and(|id| !id.is_empty()),
                },
            },
        })
        .collect();
    origins.sort_by(|a, b| a.id.cmp(&b.id));
    let default = c.default_cache_behavior.as_ref();
    Shape {
        comment: c.comment.clone(),
        enabled: c.enabled,
        price_class: c
            .price_class
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        origins,
        default_behavior: default.map_or_else(Behavior::default, |d| {
            behavior_of(
                None,
                &d.target_origin_id,
                d.forwarded_values.as_ref(),
                [d.min_ttl, d.default_ttl, d.max_ttl],
            )
        }),
        behaviors: (c.cache_behaviors.iter().flat_map(|b| b.items.iter().flatten()))
            .map(|b| {
                behavior_of(
                    Some(b.path_pattern.clone()),
                    &b.target_origin_id,
                    b.forwarded_values.as_ref(),
                    [b.min_ttl, b.default_ttl, b.max_ttl],
                )
            })
            .collect(),
    }
}

impl Managed for Distribution {
    const KIND: Kind = Kind::Distribution;
    /// Disabled, it refers to nothing AWS checks: the rest goes while CloudFront deploys that.
    const HOLDS_TEARDOWN: bool = false;
    type Desired = DistributionRequest;

    fn id(&self) -> &str {
        &self.id
    }

    /// ListDistributions carries no tags: the stream's uid ends the comment, `… (<uid>)`.
    fn owner(&self) -> Option<&str> {
        let comment = self.shape.comment.strip_suffix(')')?;
        comment.rsplit_once(" (").map(|(_, uid)| uid)
    }

    fn differs(&self, want: &DistributionRequest) -> bool {
        self.shape != want.shape
    }

    /// Disabled first; deleted once CloudFront has deployed that.
    fn teardown(&self) -> Teardown {
        if self.enabled() {
            Teardown::Stop
        } else if self.deployed() {
            Teardown::Delete { settles: false }
        } else {
            Teardown::Wait(format!("CloudFront is deploying the disabled distribution {}", self.id))
        }
    }

    /// With the shared origin access control its bucket origin signs with (created if missing).
    async fn create(aws: &AwsClients, want: &DistributionRequest, owner: &Owner<'_>) -> Result<Self> {
        let oac = oac_for(aws, want, owner.uid).await?;
        match create(aws, want, &oac, owner.tags).await {
            // The caller reference was used by a pass that crashed before status named the
            // distribution (and the config has changed since): adopt that one.
            Err(e) if e.code() == Some("DistributionAlreadyExists") => {
                let listed = async { list(aws).await.map(std::sync::Arc::new) };
                Box::pin(find(aws, None, owner.uid, listed))
                    .await?
                    .ok_or_else(|| Error::Waiting(format!("CloudFront distribution of this stream: {e}")))
            }
            other => other,
        }
    }

    async fn update(aws: &AwsClients, current: &Self, want: &DistributionRequest) -> Result<Self> {
        let uid = current.owner().unwrap_or_default();
        let oac = oac_for(aws, want, uid).await?;
        match update(aws, current, &want.shape, &oac).await {
            // Changed since it was read: read it again next pass.
            Err(e) if e.code() == Some("PreconditionFailed") => Err(Error::Waiting(format!(
                "CloudFront distribution {} changed meanwhile: {e}",
                current.id
            ))),
            other => other,
        }
    }

    /// Disables it (deleting waits for CloudFront to deploy that).
    async fn stop(aws: &AwsClients, current: &Self) -> Result<Self> {
        let mut off = current.shape.clone();
        off.enabled = false;
        let oac = current.oac_id.clone().unwrap_or_default();
        update(aws, current, &off, &oac).await
    }

    /// Then its origin access control, unless another distribution uses it.
    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        match delete(aws, current).await {
            Err(e) if e.code() == Some("DistributionNotDisabled") => {
                return Err(Error::Waiting(format!("CloudFront distribution {}: {e}", current.id)));
            }
            other => other?,
        }
        let uid = current.owner().unwrap_or_default();
        OriginAccessControl::retire(aws, &cloudfront::oac_name(uid))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{LiveStream, PriceClass as Class};

    #[test]
    fn the_config_sent_reads_back_as_the_shape_asked_for() {
        let mut s = LiveStream::new("launch", serde_json::from_value(json!({})).unwrap());
        s.metadata.namespace = Some("events".into());
        s.metadata.uid = Some("uid-1".into());
        let bucket = cloudfront::PlayerBucket {
            bucket: "pages",
            region: "us-east-1",
        };
        let url = "http://127.0.0.1:4580/out/v1/abc/index.m3u8";
        let want = cloudfront::distribution(&s, Some(url), Some(bucket), Class::PriceClass_200).unwrap();
        let sent = config(&want, &want.caller_reference, "E2OAC").unwrap();
        assert_eq!(shape_of(&sent), want.shape);
        let player = &sent.origins.as_ref().unwrap().items[1];
        assert_eq!(player.origin_access_control_id.as_deref(), Some("E2OAC"));
        let default = sent.default_cache_behavior.as_ref().unwrap();
        assert_eq!(default.viewer_protocol_policy, ViewerProtocolPolicy::RedirectToHttps);
        let keys = default
            .forwarded_values
            .as_ref()
            .unwrap()
            .query_string_cache_keys
            .as_ref();
        assert_eq!(keys.unwrap().quantity, 7);
        let mut changed = want.shape.clone();
        changed.price_class = "PriceClass_All".into();
        assert_ne!(shape_of(&sent), changed);
    }
}
