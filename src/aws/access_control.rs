//! CloudFront origin access controls: shared by the distributions whose player-bucket origin signs
//! (one per shard of stream uids), created with the first user and deleted with the last.

use aws_sdk_cloudfront::types::{
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols,
};

use super::{AwsClients, Ensured, Shared, cloudfront::not_found};
use crate::{
    desired::cloudfront::{self, DistributionRequest, OriginAccess},
    error::{Error, Result},
};

/// A CloudFront origin access control: the distributions of a shard of streams share it.
pub struct OriginAccessControl;

impl Shared for OriginAccessControl {
    async fn ensure(aws: &AwsClients, name: &str) -> Result<Ensured> {
        if let Some(id) = find_oac(aws, name).await? {
            return Ok(Ensured { id, created: false });
        }
        let id = create_oac(aws, name).await?;
        Ok(Ensured { id, created: true })
    }

    /// Unless a distribution still uses it.
    async fn retire(aws: &AwsClients, name: &str) -> Result<bool> {
        retire_oac(aws, name).await
    }
}

async fn create_oac(aws: &AwsClients, name: &str) -> Result<String> {
    let config = OriginAccessControlConfig::builder()
        .name(name)
        .description(OAC_DESCRIPTION)
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .build()
        .map_err(|e| Error::Invalid(format!("origin access control {name}: {e}")))?;
    let created = (aws.cloudfront.create_origin_access_control())
        .origin_access_control_config(config)
        .send()
        .await
        .map_err(|e| Error::aws("CreateOriginAccessControl", e));
    match created {
        Ok(out) => Ok(out.origin_access_control.map(|o| o.id).unwrap_or_default()),
        // Another stream created it a moment ago.
        Err(e) if e.code() == Some("OriginAccessControlAlreadyExists") => find_oac(aws, name)
            .await?
            .ok_or_else(|| Error::Waiting(format!("origin access control {name}: {e}"))),
        Err(e) => Err(e),
    }
}

/// What marks an origin access control as the operator's (shared, deleted with its last user).
pub const OAC_DESCRIPTION: &str = "livestream-operator: player pages of LiveStreams";

async fn find_oac(aws: &AwsClients, name: &str) -> Result<Option<String>> {
    let mut marker: Option<String> = None;
    loop {
        let page = (aws.cloudfront.list_origin_access_controls())
            .set_marker(marker.clone())
            .max_items(100)
            .send()
            .await
            .map_err(|e| Error::aws("ListOriginAccessControls", e))?;
        let Some(list) = page.origin_access_control_list else {
            return Ok(None);
        };
        if let Some(found) = list.items.iter().flatten().find(|o| o.name == name) {
            return Ok(Some(found.id.clone()));
        }
        match list.next_marker.filter(|_| list.is_truncated) {
            Some(next) => marker = Some(next),
            None => return Ok(None),
        }
    }
}

async fn retire_oac(aws: &AwsClients, name: &str) -> Result<bool> {
    let Some(id) = find_oac(aws, name).await? else {
        return Ok(true);
    };
    let got = aws.cloudfront.get_origin_access_control().id(&id).send().await;
    let got = match got.map_err(|e| Error::aws("GetOriginAccessControl", e)) {
        Ok(got) => got,
        Err(e) if not_found(&e) => return Ok(true),
        Err(e) => return Err(e),
    };
    let ours = (got.origin_access_control.as_ref())
        .and_then(|o| o.origin_access_control_config.as_ref())
        .is_some_and(|c| c.description.as_deref() == Some(OAC_DESCRIPTION));
    if !ours {
        return Ok(false);
    }
    let deleted = (aws.cloudfront.delete_origin_access_control())
        .id(&id)
        .set_if_match(got.e_tag)
        .send()
        .await
        .map_err(|e| Error::aws("DeleteOriginAccessControl", e));
    match deleted {
        Ok(_) => Ok(true),
        Err(e) if not_found(&e) => Ok(true),
        // Another stream's distribution uses it (or changed it meanwhile): it stays.
        Err(e) if matches!(e.code(), Some("OriginAccessControlInUse" | "PreconditionFailed")) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The shared origin access control a distribution's bucket origin signs with ("" without one).
pub(super) async fn oac_for(aws: &AwsClients, request: &DistributionRequest, uid: &str) -> Result<String> {
    let signs = (request.shape.origins.iter()).any(|o| o.access == OriginAccess::S3 { signed: true });
    if !signs {
        return Ok(String::new());
    }
    Ok(OriginAccessControl::ensure(aws, &cloudfront::oac_name(uid)).await?.id)
}
