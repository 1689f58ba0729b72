//! Executing the MediaPackage v2 steps and the retirement of a version the stream left: each an
//! AWS call and an event, folded into the snapshot like every other step.

use super::{
    Run,
    plan::{Desired, Step},
};
use crate::observe::{Observed, ObservedV2, cache::KindCache};
use crate::{
    aws::{Endpoint, Kind, Managed, PackageChannel, Role, package_v2},
    desired::mediapackagev2::ManifestKind,
    error::{Error, QUOTA_EXCEEDED, Result},
};

impl Run<'_> {
    /// The channel group (if missing) and the stream's channel in it.
    pub(super) async fn create_channel_v2(&mut self, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let aws = &self.ctx.aws;
        let want = &desired.v2_channel;
        if package_v2::ensure_group(aws, &want.group).await? {
            let note = format!("Created MediaPackage v2 channel group {}", want.group);
            self.event("CreatedChannelGroup", note).await;
        }
        // Past the operator's own group, the stream's group is written down before its channel is
        // made there, so a crash after the create finds it again (see `placement`).
        let annotated = crate::placement::placed(self.stream);
        if self.want.packaging.placed
            && want.group != self.ctx.settings.channel_group
            && annotated.as_deref() != Some(want.group.as_str())
        {
            crate::placement::record(self.ctx, self.stream, Some(&want.group)).await?;
        }
        let made = match package_v2::create_channel(aws, want, &self.uid, &self.tags).await {
            // Created by an earlier pass that crashed before it saw the answer: adopt it.
            Err(e) if e.code() == Some("ConflictException") => package_v2::get_channel(aws, &want.group, &want.name)
                .await?
                .ok_or_else(|| Error::Waiting(format!("MediaPackage v2 channel {}: {e}", want.name)))?,
            // The group holds as many channels as the account allows: the next pass tries the
            // next group (a group the stream named or already uses is not changed for it).
            Err(e) if e.code() == Some(QUOTA_EXCEEDED) && self.want.packaging.placed => {
                self.ctx.placement.mark_full(&want.group);
                if annotated.is_some() {
                    crate::placement::record(self.ctx, self.stream, None).await?;
                }
                let next = self.ctx.placement.choose(&self.ctx.settings.channel_group);
                let note = format!(
                    "MediaPackage v2 channel group {} is full ({e}); the stream's channel goes into group {next}",
                    want.group
                );
                self.event("ChannelGroupFull", note).await;
                return Err(Error::Waiting(format!(
                    "channel group {} is full; placing in {next}",
                    want.group
                )));
            }
            other => other?,
        };
        let note = format!("Created MediaPackage v2 channel {}/{}", made.group, made.name);
        self.event("CreatedChannelV2", note).await;
        observed.v2 = Some(ObservedV2 {
            group: want.group.clone(),
            channel: Some(made),
            endpoints: Vec::new(),
        });
        Ok(())
    }

    /// Creates, updates or deletes (`step`) one of the stream's origin endpoints; its role is its
    /// manifest kind, and names it.
    pub(super) async fn endpoint_v2(&mut self, step: &Step, desired: &Desired, observed: &mut Observed) -> Result<()> {
        let (Step::Create(what) | Step::Update(what) | Step::Delete(what)) = step else {
            return Ok(());
        };
        let kind = ManifestKind::ALL.into_iter().find(|k| k.role() == what.role);
        let name = kind.map(ManifestKind::endpoint_name).unwrap_or_default();
        let aws = &self.ctx.aws;
        let v2 = observed
            .v2
            .as_mut()
            .ok_or_else(|| Error::Waiting("no MediaPackage v2 channel".into()))?;
        let channel = v2
            .channel
            .clone()
            .ok_or_else(|| Error::Waiting("no MediaPackage v2 channel".into()))?;
        let want = |name: &str| {
            (desired.v2_endpoints.iter().find(|w| w.name == name))
                .ok_or_else(|| Error::Waiting(format!("endpoint {name} is not in the spec")))
        };
        let (reason, note) = match step {
            Step::Create(_) => {
                let want = want(name)?;
                match package_v2::create_endpoint(aws, &channel, want, &self.uid, &self.tags).await {
                    Err(e) if e.code() == Some("ConflictException") => {}
                    other => other?,
                }
                (
                    "CreatedOriginEndpoint",
                    format!("Created MediaPackage v2 origin endpoint {name} ({:?})", want.kind),
                )
            }
            Step::Update(_) => {
                let current = (v2.endpoints.iter().find(|e| e.name == name))
                    .ok_or_else(|| Error::Waiting(format!("endpoint {name} is gone")))?;
                match package_v2::update_endpoint(aws, &channel, current, want(name)?).await {
                    // Someone changed it since it was read: read it again next round.
                    Err(e)
                        if e.code() == Some("PreconditionFailedException") || e.code() == Some("ConflictException") =>
                    {
                        return Err(Error::Waiting(format!("origin endpoint {name} changed meanwhile: {e}")));
                    }
                    other => other?,
                }
                (
                    "UpdatedOriginEndpoint",
                    format!("Updated MediaPackage v2 origin endpoint {name} to the spec"),
                )
            }
            _ => {
                package_v2::delete_endpoint(aws, &channel.group, &channel.name, name).await?;
                (
                    "DeletedOriginEndpoint",
                    format!("Deleted MediaPackage v2 origin endpoint {name}"),
                )
            }
        };
        self.event(reason, note).await;
        // The endpoint's answer carries the URL and ETag the next plan and status need; the others
        // are as they were.
        v2.endpoints.retain(|e| e.name != name);
        if !matches!(step, Step::Delete(_)) {
            let read = Box::pin(package_v2::get_endpoint(aws, &channel.group, &channel.name, name)).await?;
            v2.endpoints.extend(read);
            // In the order a fresh read gives them (status lists their ARNs).
            v2.endpoints
                .sort_by_key(|e| ManifestKind::ALL.iter().position(|k| k.endpoint_name() == e.name));
        }
        Ok(())
    }

    /// Deletes the stream's resource of `kind` of the version it left.
    pub(super) async fn retire(&mut self, kind: Kind, observed: &mut Observed) -> Result<()> {
        let aws = &self.ctx.aws;
        let cache = &self.ctx.cache;
        let (reason, note) = match kind {
            Kind::Endpoint => {
                let id = observed.endpoint.take().map(|e| e.id).unwrap_or_default();
                remove::<Endpoint>(&cache.endpoints, self, &id).await?;
                (
                    "RetiredEndpoint",
                    format!("Deleted MediaPackage v1 endpoint {id}: the stream moved to v2"),
                )
            }
            Kind::PackageChannel => {
                let id = observed
                    .package_channel
                    .as_ref()
                    .map(|c| c.id.clone())
                    .unwrap_or_default();
                remove::<PackageChannel>(&cache.package_channels, self, &id).await?;
                observed.package_channel = None;
                (
                    "RetiredPackageChannel",
                    format!("Deleted MediaPackage v1 channel {id}: the stream moved to v2"),
                )
            }
            Kind::OriginEndpoint | Kind::ChannelV2 => {
                let Some(v2) = observed.v2.as_mut() else {
                    return Ok(());
                };
                let name = v2.channel.as_ref().map(|c| c.name.clone()).unwrap_or_default();
                if kind == Kind::OriginEndpoint {
                    for e in v2
                        .endpoints
                        .drain(..)
                        .filter(|e| e.owner.as_deref() == Some(self.uid.as_str()))
                    {
                        package_v2::delete_endpoint(aws, &v2.group, &name, &e.name).await?;
                    }
                    let note = format!(
                        "Deleted the MediaPackage v2 origin endpoints of {}/{name}: the stream moved to v1",
                        v2.group
                    );
                    ("RetiredOriginEndpoints", note)
                } else {
                    package_v2::delete_channel(aws, &v2.group, &name).await?;
                    v2.channel = None;
                    package_v2::retire_group(aws, &v2.group).await?;
                    let note = format!(
                        "Deleted MediaPackage v2 channel {}/{name}: the stream moved to v1",
                        v2.group
                    );
                    ("RetiredChannelV2", note)
                }
            }
            Kind::Distribution => return self.retire_distribution(observed).await,
            _ => return Ok(()),
        };
        self.event(reason, note).await;
        Ok(())
    }
}

async fn remove<K: Managed>(cache: &KindCache<K>, run: &Run<'_>, id: &str) -> Result<()> {
    if id.is_empty() {
        return Ok(());
    }
    Box::pin(cache.change(&run.uid, Role::Main, K::delete(&run.ctx.aws, id))).await
}
