//! What a pass does with each kind beyond its place in the snapshot (`observe::Slot`): where the
//! spec's request for it is in `Desired`, the read cache its changes go through, the words of its
//! events, and the few things a kind does around a create. The executor and teardown reach every
//! kind through this one face (`Held`), by `aws::each_kind!`.

use futures::future::BoxFuture;

use super::{Run, plan::Desired};
use crate::{
    api::LiveStream,
    aws::{
        Channel, Endpoint, Input, PackageChannel, Role, SecurityGroup, Shared,
        cloudfront::Distribution,
        origin_endpoint::OriginEndpoint,
        package_v2::{ChannelGroup, ChannelV2},
        page::Page,
    },
    context::Context,
    error::{Error, QUOTA_EXCEEDED, Result},
    observe::{ReadCache, Slot},
};

/// Why a resource goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The LiveStream is deleted.
    StreamDeleted,
    /// The spec no longer asks for it (a role, an endpoint turned off, the version it left).
    NotAsked,
}

/// A kind as a pass holds it: its place in the snapshot (`Slot`) and what follows here.
pub trait Held: Slot {
    /// What the spec asks of it this round (`None`: not yet known, e.g. before its dependencies).
    fn wanted(desired: &Desired, role: Role) -> Option<&Self::Desired>;

    /// Sends a change through the read cache that keeps the kind's answers, so that nothing read
    /// before the change serves after it.
    fn through<'a, T: Send + 'a>(
        _cache: &'a ReadCache,
        _uid: &'a str,
        _role: Role,
        call: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        call
    }
    /// A create, sent like any change unless the kind's read cache must know of creates.
    fn creating<'a, T: Send + 'a>(
        cache: &'a ReadCache,
        uid: &'a str,
        role: Role,
        call: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        Self::through(cache, uid, role, call)
    }
    /// AWS's answer after a create or an update, for the read cache.
    fn answered(_cache: &ReadCache, _uid: &str, _answer: &Self) {}

    /// What has to be there before it is created or updated (the kind's own prerequisites that
    /// are no resource of the stream: a shared group, the recording bucket).
    fn prepare(run: &Run<'_>, desired: &Desired, want: &Self::Desired) -> impl Future<Output = Result<()>> + Send {
        let _ = (run, desired, want);
        async { Ok(()) }
    }
    /// What a refused create means for the stream (by default, the refusal itself).
    fn refused(run: &Run<'_>, want: &Self::Desired, error: Error) -> impl Future<Output = Error> + Send {
        let _ = (run, want);
        async { error }
    }

    /// What goes with it once it is deleted (a shared group with its last channel).
    fn gone(ctx: &Context, stream: &LiveStream, deleted: &Self) -> impl Future<Output = Result<()>> + Send {
        let _ = (ctx, stream, deleted);
        async { Ok(()) }
    }

    /// The event for its creation: reason and note.
    fn created(&self, want: &Self::Desired) -> (&'static str, String);
    /// The event for an update.
    fn updated(&self, want: &Self::Desired) -> (&'static str, String);
    /// The event for its deletion.
    fn deleted(&self, why: Why) -> (&'static str, String);
    /// The event for stopping it ahead of deletion (only kinds whose teardown says Stop).
    fn stopping(&self) -> (&'static str, String) {
        ("Stopping", format!("Stopping {}", self.id()))
    }
}

/// The kinds the read cache keeps by (stream, role): their changes and answers go through it.
macro_rules! cached_in {
    ($field:ident) => {
        fn through<'a, T: Send + 'a>(
            cache: &'a ReadCache,
            uid: &'a str,
            role: Role,
            call: BoxFuture<'a, Result<T>>,
        ) -> BoxFuture<'a, Result<T>> {
            Box::pin(cache.$field.change(uid, role, call))
        }

        fn answered(cache: &ReadCache, uid: &str, answer: &Self) {
            cache.$field.seen(uid, answer);
        }
    };
}

impl Held for PackageChannel {
    cached_in!(package_channels);

    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        Some(&desired.package_channel)
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "CreatedPackageChannel",
            format!("Created MediaPackage channel {}", self.id),
        )
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "UpdatedPackageChannel",
            format!("Updated MediaPackage channel {}", self.id),
        )
    }

    fn deleted(&self, why: Why) -> (&'static str, String) {
        match why {
            Why::StreamDeleted => (
                "DeletedPackageChannel",
                format!("Deleted MediaPackage channel {}", self.id),
            ),
            Why::NotAsked => (
                "RetiredPackageChannel",
                format!("Deleted MediaPackage v1 channel {}: the stream moved to v2", self.id),
            ),
        }
    }
}

impl Held for Endpoint {
    cached_in!(endpoints);

    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        Some(&desired.endpoint)
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "CreatedEndpoint",
            format!("Created MediaPackage HLS endpoint {}", self.id),
        )
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!("Updated the HLS settings of MediaPackage endpoint {}", self.id);
        ("UpdatedEndpoint", note)
    }

    fn deleted(&self, why: Why) -> (&'static str, String) {
        match why {
            Why::StreamDeleted => ("DeletedEndpoint", format!("Deleted MediaPackage endpoint {}", self.id)),
            Why::NotAsked => (
                "RetiredEndpoint",
                format!("Deleted MediaPackage v1 endpoint {}: the stream moved to v2", self.id),
            ),
        }
    }
}

impl Held for crate::aws::secret::Secret {
    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        desired.secret.as_ref()
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "CreatedSecret",
            format!("Created Secrets Manager secret {} for the SRT passphrase", self.name),
        )
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "RotatedPassphrase",
            format!(
                "The SRT passphrase Secret changed: put its new value into Secrets Manager secret {}",
                self.name
            ),
        )
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        let how = match self.recovery_window_days {
            Some(days) => format!("scheduled for deletion after a {days}-day recovery window"),
            None => "deleted without recovery".to_owned(),
        };
        ("DeletedSecret", format!("Secrets Manager secret {} {how}", self.name))
    }
}

impl Held for SecurityGroup {
    cached_in!(security_groups);

    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        Some(&desired.cidrs)
    }

    fn created(&self, want: &Self::Desired) -> (&'static str, String) {
        let note = format!("Created input security group {} for {}", self.id, want.join(", "));
        ("CreatedSecurityGroup", note)
    }

    fn updated(&self, want: &Self::Desired) -> (&'static str, String) {
        let note = format!("Set input security group {} to {}", self.id, want.join(", "));
        ("UpdatedSecurityGroup", note)
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        (
            "DeletedSecurityGroup",
            format!("Deleted input security group {}", self.id),
        )
    }
}

impl Held for Input {
    cached_in!(inputs);

    fn wanted(desired: &Desired, role: Role) -> Option<&Self::Desired> {
        desired.inputs.get(&role)
    }

    fn created(&self, want: &Self::Desired) -> (&'static str, String) {
        // The primary's note reads as before roles: users and their alerts match on it.
        let which = match self.role {
            Role::Primary => String::new(),
            other => format!("{} ", other.as_str()),
        };
        let protocol = if want.target.srt().is_some() { "SRT" } else { "RTMP" };
        let note = format!(
            "Created {which}{protocol} input {} ({})",
            self.id,
            want.target.describe()
        );
        ("CreatedInput", note)
    }

    fn updated(&self, want: &Self::Desired) -> (&'static str, String) {
        let note = match want.target.srt() {
            Some(srt) => format!("Updated input {} to {}", self.id, srt.describe()),
            None => format!("Updated input {} to stream name {}", self.id, want.target.describe()),
        };
        ("UpdatedInput", note)
    }

    fn deleted(&self, why: Why) -> (&'static str, String) {
        let note = match why {
            Why::StreamDeleted => format!("Deleting input {}", self.id),
            Why::NotAsked => format!(
                "Deleting {} input {}: the spec no longer asks for it",
                self.role.as_str(),
                self.id
            ),
        };
        ("DeletingInput", note)
    }
}

impl Held for Channel {
    cached_in!(channels);

    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        desired.channel.as_ref()
    }

    /// The recording bucket exists before the channel writes to it.
    async fn prepare(run: &Run<'_>, desired: &Desired, _: &Self::Desired) -> Result<()> {
        run.recording_bucket(desired).await
    }

    fn created(&self, want: &Self::Desired) -> (&'static str, String) {
        let renditions = want.video_descriptions();
        let note = format!("Created MediaLive channel {} ({renditions} renditions)", self.id);
        ("CreatedChannel", note)
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        let what = (self.corrected.as_deref()).map_or_else(String::new, |at| format!(" (it differed first at {at})"));
        (
            "UpdatedChannel",
            format!("Updated MediaLive channel {} to the spec{what}", self.id),
        )
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        ("DeletingChannel", format!("Deleting MediaLive channel {}", self.id))
    }

    fn stopping(&self) -> (&'static str, String) {
        let note = format!("Stopping MediaLive channel {} before deleting it", self.id);
        ("StoppingChannel", note)
    }
}

impl Held for ChannelV2 {
    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        Some(&desired.v2_channel)
    }

    /// Its shared group is created with the first channel in it; past the operator's own group,
    /// the stream's group is written down before its channel is made there, so a crash after the
    /// create finds it again (see `placement`).
    async fn prepare(run: &Run<'_>, _: &Desired, want: &Self::Desired) -> Result<()> {
        if ChannelGroup::ensure(&run.ctx.aws, &want.group).await?.created {
            let note = format!("Created MediaPackage v2 channel group {}", want.group);
            run.event("CreatedChannelGroup", note).await;
        }
        let annotated = crate::placement::placed(run.stream);
        if run.want.packaging.placed
            && want.group != run.ctx.settings.channel_group
            && annotated.as_deref() != Some(want.group.as_str())
        {
            crate::placement::record(run.ctx, run.stream, Some(&want.group)).await?;
        }
        Ok(())
    }

    /// The group holds as many channels as the account allows: the next pass tries the next group
    /// (a group the stream named or already uses is not changed for it).
    async fn refused(run: &Run<'_>, want: &Self::Desired, error: Error) -> Error {
        if error.code() != Some(QUOTA_EXCEEDED) || !run.want.packaging.placed {
            return error;
        }
        run.ctx.placement.mark_full(&want.group);
        if crate::placement::placed(run.stream).is_some()
            && let Err(e) = crate::placement::record(run.ctx, run.stream, None).await
        {
            return e;
        }
        let next = run.ctx.placement.choose(&run.ctx.settings.channel_group);
        let note = format!(
            "MediaPackage v2 channel group {} is full ({error}); the stream's channel goes into group {next}",
            want.group
        );
        run.event("ChannelGroupFull", note).await;
        Error::Waiting(format!("channel group {} is full; placing in {next}", want.group))
    }

    /// The shared group goes with its last channel, if the operator made it.
    async fn gone(ctx: &Context, stream: &LiveStream, deleted: &Self) -> Result<()> {
        if ChannelGroup::retire(&ctx.aws, &deleted.group).await? {
            let note = format!(
                "Deleted MediaPackage v2 channel group {}: no channel is left in it",
                deleted.group
            );
            super::action(ctx, stream, "DeletedChannelGroup", note).await;
        }
        Ok(())
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!("Created MediaPackage v2 channel {}/{}", self.group, self.name);
        ("CreatedChannelV2", note)
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!("Updated MediaPackage v2 channel {}/{}", self.group, self.name);
        ("UpdatedChannelV2", note)
    }

    fn deleted(&self, why: Why) -> (&'static str, String) {
        let id = format!("{}/{}", self.group, self.name);
        match why {
            Why::StreamDeleted => ("DeletedChannelV2", format!("Deleted MediaPackage v2 channel {id}")),
            Why::NotAsked => (
                "RetiredChannelV2",
                format!("Deleted MediaPackage v2 channel {id}: the stream moved to v1"),
            ),
        }
    }
}

impl Held for OriginEndpoint {
    fn wanted(desired: &Desired, role: Role) -> Option<&Self::Desired> {
        desired.v2_endpoints.iter().find(|w| w.kind.role() == role)
    }

    fn created(&self, want: &Self::Desired) -> (&'static str, String) {
        let note = format!(
            "Created MediaPackage v2 origin endpoint {} ({:?})",
            self.name, want.kind
        );
        ("CreatedOriginEndpoint", note)
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!("Updated MediaPackage v2 origin endpoint {} to the spec", self.name);
        ("UpdatedOriginEndpoint", note)
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        let id = format!("{}/{}/{}", self.group, self.channel, self.name);
        (
            "DeletedOriginEndpoint",
            format!("Deleted MediaPackage v2 origin endpoint {id}"),
        )
    }
}

impl Held for Distribution {
    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        desired.distribution.as_ref()
    }

    /// A listing begun before the create does not show it: the stream's next find lists again.
    fn creating<'a, T: Send + 'a>(
        cache: &'a ReadCache,
        uid: &'a str,
        _: Role,
        call: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        Box::pin(cache.distributions.create(uid, call))
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!(
            "Created CloudFront distribution {} ({}); CloudFront is deploying it",
            self.id, self.domain
        );
        ("CreatedDistribution", note)
    }

    fn updated(&self, _: &Self::Desired) -> (&'static str, String) {
        (
            "UpdatedDistribution",
            format!("Updated CloudFront distribution {} to the spec", self.id),
        )
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        (
            "DeletedDistribution",
            format!("Deleted CloudFront distribution {}", self.id),
        )
    }

    fn stopping(&self) -> (&'static str, String) {
        let note = format!(
            "Disabling CloudFront distribution {}: it is deleted once CloudFront has deployed that",
            self.id
        );
        ("DisablingDistribution", note)
    }
}

impl Held for Page {
    fn wanted(desired: &Desired, _: Role) -> Option<&Self::Desired> {
        desired.page.as_ref()
    }

    fn created(&self, _: &Self::Desired) -> (&'static str, String) {
        let note = format!("Published the player page to {}", self.location);
        ("PublishedWebsite", note)
    }

    fn updated(&self, want: &Self::Desired) -> (&'static str, String) {
        self.created(want)
    }

    fn deleted(&self, _: Why) -> (&'static str, String) {
        let buckets = std::iter::once(&self.bucket).chain(&self.also_in);
        let from = buckets.map(|b| format!("s3://{b}/{}", self.prefix)).collect::<Vec<_>>();
        let note = format!("Deleted the player page from {}", from.join(" and "));
        ("DeletedWebsite", note)
    }
}
