//! Distributions: create (plain and with tags), get, get config, update and delete with the ETag
//! as `If-Match`, list with `Marker` / `MaxItems`, and the tagging operations. A create binds the
//! distribution's edge (its own port on 127.0.0.1); a delete closes it.

use std::{sync::Arc, time::Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{
    CloudFront, Distribution, api::Reply, cache::Cache, checks, edge, errors, errors::error, new_id, rules, tags_from,
    tags_json,
};
use crate::protocol::{ApiError, ApiRequest};

impl CloudFront {
    /// One validated operation; `body` is its payload as JSON (`{"DistributionConfig": …}`).
    pub(crate) fn call(&self, operation: &str, req: &ApiRequest, body: &Value) -> Result<Reply, ApiError> {
        let path = req.path();
        let id = path.get(2).copied().unwrap_or_default();
        let if_match = req.header("if-match");
        match operation {
            "CreateDistribution" => self.create(&body["DistributionConfig"], Vec::new()),
            "CreateDistributionWithTags" => {
                let with_tags = &body["DistributionConfigWithTags"];
                self.create(&with_tags["DistributionConfig"], tags_from(&with_tags["Tags"]))
            }
            "GetDistribution" => self.read(id, |d| Ok(Reply::ok(self.describe(d)).with_etag(&d.etag))),
            "GetDistributionConfig" => self.read(id, |d| Ok(Reply::ok((*d.config).clone()).with_etag(&d.etag))),
            "UpdateDistribution" => self.update(id, &body["DistributionConfig"], if_match),
            "DeleteDistribution" => self.delete(id, if_match),
            "ListDistributions" => self.list(req),
            "ListOriginAccessControls" => self.list_oac_page(req),
            "TagResource" | "UntagResource" | "ListTagsForResource" => self.tagging(operation, req, body),
            _ => self.call_oac(operation, id, if_match, body),
        }
    }

    fn read(&self, id: &str, f: impl FnOnce(&Distribution) -> Result<Reply, ApiError>) -> Result<Reply, ApiError> {
        let state = self.inner.state.lock().unwrap();
        f(state.distributions.get(id).ok_or_else(errors::no_such_distribution)?)
    }

    /// The origin access controls' types by id, for the config rules.
    fn oac_types(&self) -> impl Fn(&str) -> Option<String> + use<> {
        let state = self.inner.state.lock().unwrap();
        let types: std::collections::HashMap<String, String> = (state.oacs.values())
            .map(|o| {
                let kind = o.config["OriginAccessControlOriginType"].as_str().unwrap_or_default();
                (o.id.clone(), kind.to_owned())
            })
            .collect();
        move |id: &str| types.get(id).cloned()
    }

    pub(super) fn create(&self, config: &Value, tags: Vec<(String, String)>) -> Result<Reply, ApiError> {
        rules::check(config, &self.oac_types())?;
        checks::check(config, &self.inner.config.cloudfront_quotas)?;
        let caller_reference = config["CallerReference"].as_str().unwrap_or_default().to_owned();
        {
            let state = self.inner.state.lock().unwrap();
            let used = state
                .distributions
                .values()
                .find(|d| d.config["CallerReference"] == caller_reference);
            // The model (DistributionAlreadyExists): the caller reference "is associated with
            // another distribution"; the same config again is the same distribution (idempotent).
            if let Some(existing) = used {
                if existing.created_with == *config {
                    return Ok(self.created(existing));
                }
                return Err(error(
                    409,
                    "DistributionAlreadyExists",
                    format!(
                        "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {}",
                        existing.id
                    ),
                ));
            }
            let quotas = &self.inner.config.cloudfront_quotas;
            if state.distributions.len() >= quotas.distributions {
                return Err(error(
                    400,
                    "TooManyDistributions",
                    "Processing your request would cause you to exceed the maximum number of distributions allowed.",
                ));
            }
            checks::distributions_per_oac(state.distributions.values().map(|d| &*d.config), config, quotas)?;
        }
        let (listener, port) = edge::bind(&self.inner.config).map_err(|e| {
            error(
                500,
                "InternalError",
                format!("cannot bind the distribution's edge: {e}"),
            )
        })?;
        let id = new_id();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let distribution = Distribution {
            id: id.clone(),
            config: Arc::new(rules::with_defaults(config.clone())),
            created_with: config.clone(),
            etag: new_id(),
            last_modified: jiff::Timestamp::now(),
            deployed_at: Instant::now() + self.deploy_delay(),
            tags,
            port,
            stop: Some(stop),
            stats: Arc::new(edge::Stats::default()),
            cache: Arc::new(Cache::default()),
        };
        edge::serve(self.clone(), id.clone(), listener, stopped);
        tracing::info!(distribution = %id, port, "CloudFront distribution created, its edge listening");
        let mut state = self.inner.state.lock().unwrap();
        let reply = self.created(&distribution);
        state.distributions.insert(id, distribution);
        Ok(reply)
    }

    fn created(&self, d: &Distribution) -> Reply {
        let mut reply = Reply::ok(self.describe(d)).with_etag(&d.etag);
        reply.status = StatusCode::CREATED;
        reply.location = Some(format!(
            "https://cloudfront.amazonaws.com/2020-05-31/distribution/{}",
            d.id
        ));
        reply
    }

    pub(super) fn domain_name(&self, port: u16) -> String {
        format!("{}:{port}", self.inner.config.public_host)
    }

    /// The Distribution shape.
    fn describe(&self, d: &Distribution) -> Value {
        json!({
            "Id": d.id,
            "ARN": self.distribution_arn(&d.id),
            "Status": d.status(),
            "LastModifiedTime": timestamp(d.last_modified),
            "InProgressInvalidationBatches": 0,
            "DomainName": self.domain_name(d.port),
            "ActiveTrustedSigners": {"Enabled": false, "Quantity": 0},
            "ActiveTrustedKeyGroups": {"Enabled": false, "Quantity": 0},
            "DistributionConfig": *d.config,
        })
    }

    fn update(&self, id: &str, config: &Value, if_match: Option<&str>) -> Result<Reply, ApiError> {
        let oac_types = self.oac_types();
        let quotas = self.inner.config.cloudfront_quotas;
        let mut state = self.inner.state.lock().unwrap();
        let others = (state.distributions.values())
            .filter(|d| d.id != id)
            .map(|d| &*d.config);
        let per_oac = checks::distributions_per_oac(others, config, &quotas);
        let d = state
            .distributions
            .get_mut(id)
            .ok_or_else(errors::no_such_distribution)?;
        errors::check_if_match(&d.etag, if_match)?;
        // "You can't change the value of CallerReference" (the model, UpdateDistribution); AWS's
        // words in https://github.com/aws/aws-sdk-js/issues/1263.
        if config["CallerReference"] != d.config["CallerReference"] {
            return Err(error(
                400,
                "IllegalUpdate",
                "You cannot update Origin or CallerReference.",
            ));
        }
        rules::check(config, &oac_types)?;
        checks::check(config, &quotas)?;
        per_oac?;
        d.config = Arc::new(rules::with_defaults(config.clone()));
        d.etag = new_id();
        d.last_modified = jiff::Timestamp::now();
        d.deployed_at = Instant::now() + self.deploy_delay();
        Ok(Reply::ok(self.describe(d)).with_etag(&d.etag))
    }

    fn delete(&self, id: &str, if_match: Option<&str>) -> Result<Reply, ApiError> {
        let mut state = self.inner.state.lock().unwrap();
        let d = state.distributions.get(id).ok_or_else(errors::no_such_distribution)?;
        errors::check_if_match(&d.etag, if_match)?;
        // Disabled, and that change deployed (CloudFront's API reference: disable, wait for
        // Deployed, then delete).
        if d.config["Enabled"] != false || d.status() != "Deployed" {
            return Err(error(
                409,
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            ));
        }
        // Dropping it closes its edge.
        state.distributions.remove(id);
        Ok(Reply::no_content())
    }

    fn list(&self, req: &ApiRequest) -> Result<Reply, ApiError> {
        let max = max_items(req)?;
        let marker = req.query_one("Marker").unwrap_or_default();
        let state = self.inner.state.lock().unwrap();
        let after: Vec<&Distribution> = (state.distributions.values())
            .filter(|d| marker.is_empty() || d.id.as_str() > marker)
            .collect();
        let page: Vec<Value> = after.iter().take(max).map(|d| self.summary(d)).collect();
        let truncated = after.len() > max;
        let mut list = json!({
            "Marker": marker,
            "MaxItems": max,
            "IsTruncated": truncated,
            "Quantity": page.len(),
            "Items": page,
        });
        if truncated {
            list["NextMarker"] = json!(after[max - 1].id);
        }
        Ok(Reply::ok(list))
    }

    /// The DistributionSummary shape.
    fn summary(&self, d: &Distribution) -> Value {
        let c = &*d.config;
        let mut summary = json!({
            "Id": d.id,
            "ARN": self.distribution_arn(&d.id),
            "ETag": d.etag,
            "Status": d.status(),
            "LastModifiedTime": timestamp(d.last_modified),
            "DomainName": self.domain_name(d.port),
        });
        for member in [
            "Aliases",
            "Origins",
            "OriginGroups",
            "DefaultCacheBehavior",
            "CacheBehaviors",
            "CustomErrorResponses",
            "Comment",
            "PriceClass",
            "Enabled",
            "ViewerCertificate",
            "Restrictions",
            "WebACLId",
            "HttpVersion",
            "IsIPV6Enabled",
            "Staging",
        ] {
            summary[member] = c[member].clone();
        }
        summary
    }

    fn tagging(&self, operation: &str, req: &ApiRequest, body: &Value) -> Result<Reply, ApiError> {
        let resource = req.query_one("Resource").unwrap_or_default();
        let prefix = self.distribution_arn("");
        let mut state = self.inner.state.lock().unwrap();
        let d = (resource.strip_prefix(&prefix))
            .and_then(|id| state.distributions.get_mut(id))
            .ok_or_else(errors::no_such_resource)?;
        match operation {
            "TagResource" => {
                for (k, v) in tags_from(&body["Tags"]) {
                    match d.tags.iter_mut().find(|(key, _)| *key == k) {
                        Some(tag) => tag.1 = v,
                        None => d.tags.push((k, v)),
                    }
                }
                Ok(Reply::no_content())
            }
            "UntagResource" => {
                let keys: Vec<&str> = (body["TagKeys"]["Items"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .collect();
                d.tags.retain(|(k, _)| !keys.contains(&k.as_str()));
                Ok(Reply::no_content())
            }
            _ => Ok(Reply::ok(tags_json(&d.tags))),
        }
    }
}

/// `MaxItems` (a string in the model): 1–1000 (100 when absent).
pub(super) fn max_items(req: &ApiRequest) -> Result<usize, ApiError> {
    match req.query_one("MaxItems") {
        None => Ok(100),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| errors::invalid_argument(format!("The parameter MaxItems is not valid: {v}"))),
    }
}

/// ISO 8601 with milliseconds, as CloudFront writes its timestamps.
fn timestamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
