//! Observe: one snapshot of every AWS resource a LiveStream owns, read through the fleet-wide
//! `Fleets` (see `fleet` for what is read how). Ids in status are only a cache; the owner tags are
//! the truth, which is how a restarted operator adopts what it created before a crash.

use std::time::Duration;

use super::fleet::{Fleet, Lookup};
use crate::{
    api::AwsResources,
    aws::{AwsClients, Channel, Endpoint, Input, Managed, PackageChannel, SecurityGroup},
    desired::Names,
    error::Result,
};

/// What AWS holds of one stream, as of this pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub package_channel: Option<PackageChannel>,
    pub endpoint: Option<Endpoint>,
    pub security_group: Option<SecurityGroup>,
    pub input: Option<Input>,
    pub channel: Option<Channel>,
}

impl Observed {
    /// The ids for status.
    pub fn ids(&self) -> AwsResources {
        AwsResources {
            input_security_group_id: self.security_group.as_ref().map(|g| g.id.clone()),
            input_id: self.input.as_ref().map(|i| i.id.clone()),
            channel_id: self.channel.as_ref().map(|c| c.id.clone()),
            channel_arn: self.channel.as_ref().and_then(|c| c.arn.clone()),
            media_package_channel_id: self.package_channel.as_ref().map(|c| c.id.clone()),
            origin_endpoint_id: self.endpoint.as_ref().map(|e| e.id.clone()),
        }
    }
}

/// One `Fleet` per kind, shared by every reconcile.
#[derive(Default)]
pub struct Fleets {
    pub package_channels: Fleet<PackageChannel>,
    pub endpoints: Fleet<Endpoint>,
    pub security_groups: Fleet<SecurityGroup>,
    pub inputs: Fleet<Input>,
    pub channels: Fleet<Channel>,
}

impl Fleets {
    /// A deleted stream's bookkeeping goes with it.
    pub fn forget(&self, uid: &str) {
        self.package_channels.forget(uid);
        self.endpoints.forget(uid);
        self.security_groups.forget(uid);
        self.inputs.forget(uid);
        self.channels.forget(uid);
    }

    /// Reads everything of the stream `uid` (the five kinds concurrently).
    pub async fn observe(
        &self,
        aws: &AwsClients,
        max_age: Duration,
        uid: &str,
        names: &Names,
        cached: &AwsResources,
    ) -> Result<Observed> {
        fn by_tag<'a>(uid: &'a str, cached: &'a Option<String>) -> Lookup<'a> {
            Lookup {
                uid,
                name: None,
                cached: cached.as_deref(),
            }
        }
        let package_channel = Lookup {
            uid,
            name: Some(&names.channel),
            cached: cached.media_package_channel_id.as_deref(),
        };
        let endpoint = Lookup {
            uid,
            name: Some(&names.endpoint),
            cached: cached.origin_endpoint_id.as_deref(),
        };
        let (package_channel, endpoint, security_group, input, channel) = futures::try_join!(
            read(&self.package_channels, aws, package_channel, max_age),
            read(&self.endpoints, aws, endpoint, max_age),
            read(
                &self.security_groups,
                aws,
                by_tag(uid, &cached.input_security_group_id),
                max_age
            ),
            read(&self.inputs, aws, by_tag(uid, &cached.input_id), max_age),
            read(&self.channels, aws, by_tag(uid, &cached.channel_id), max_age),
        )?;
        Ok(Observed {
            package_channel,
            endpoint,
            security_group,
            input,
            channel,
        })
    }
}

async fn read<K: Managed>(
    fleet: &Fleet<K>,
    aws: &AwsClients,
    lookup: Lookup<'_>,
    max_age: Duration,
) -> Result<Option<K>> {
    let list = || Box::pin(K::list(aws));
    let describe = |id: String| Box::pin(async move { K::describe(aws, &id).await });
    Box::pin(fleet.observe(lookup, max_age, list, describe)).await
}
