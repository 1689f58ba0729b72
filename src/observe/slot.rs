//! Where each kind sits in the snapshot: the stream's resource of a kind and role, and how AWS's
//! answer about it is folded in. The executor folds every answer through here, and so do the plan
//! tests.

use super::{Observed, ObservedV2};
use crate::{
    aws::{
        Channel, Endpoint, Input, Managed, PackageChannel, Role, SecurityGroup, cloudfront::Distribution,
        origin_endpoint::OriginEndpoint, package_v2::ChannelV2, page::Page,
    },
    desired::mediapackagev2::ManifestKind,
};

/// A kind's place in the snapshot.
pub trait Slot: Managed {
    /// The stream's resource of the kind with `role`.
    fn observed(observed: &Observed, role: Role) -> Option<&Self>;
    /// Puts AWS's answer about it into the snapshot (`None`: it is gone).
    fn fold(observed: &mut Observed, role: Role, answer: Option<Self>);
}

impl Slot for PackageChannel {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.package_channel.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.package_channel = answer;
    }
}

impl Slot for Endpoint {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.endpoint.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.endpoint = answer;
    }
}

impl Slot for SecurityGroup {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.security_group.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.security_group = answer;
    }
}

impl Slot for Input {
    fn observed(observed: &Observed, role: Role) -> Option<&Self> {
        observed.inputs.get(&role)
    }

    fn fold(observed: &mut Observed, role: Role, answer: Option<Self>) {
        match answer {
            Some(input) => observed.inputs.insert(role, input),
            None => observed.inputs.remove(&role),
        };
    }
}

impl Slot for crate::aws::secret::Secret {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.secret.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.secret = answer;
    }
}

impl Slot for Channel {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.channel.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.channel = answer;
    }
}

impl Slot for ChannelV2 {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.v2.as_ref()?.channel.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        match (observed.v2.as_mut(), answer) {
            (Some(v2), Some(channel)) if v2.group == channel.group => v2.channel = Some(channel),
            (_, Some(channel)) => {
                observed.v2 = Some(ObservedV2 {
                    group: channel.group.clone(),
                    channel: Some(channel),
                    endpoints: Vec::new(),
                })
            }
            (Some(v2), None) => v2.channel = None,
            (None, None) => {}
        }
    }
}

impl Slot for OriginEndpoint {
    fn observed(observed: &Observed, role: Role) -> Option<&Self> {
        let v2 = observed.v2.as_ref()?;
        v2.endpoints.iter().find(|e| e.role() == role)
    }

    fn fold(observed: &mut Observed, role: Role, answer: Option<Self>) {
        let v2 = observed.v2.get_or_insert_with(|| ObservedV2 {
            group: answer.as_ref().map(|e| e.group.clone()).unwrap_or_default(),
            channel: None,
            endpoints: Vec::new(),
        });
        v2.endpoints.retain(|e| e.role() != role);
        v2.endpoints.extend(answer);
        // In the order a fresh read gives them (status lists their ARNs).
        v2.endpoints
            .sort_by_key(|e| ManifestKind::ALL.iter().position(|k| k.endpoint_name() == e.name));
    }
}

impl Slot for Distribution {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.distribution.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.distribution = answer;
    }
}

impl Slot for Page {
    fn observed(observed: &Observed, _: Role) -> Option<&Self> {
        observed.page.as_ref()
    }

    fn fold(observed: &mut Observed, _: Role, answer: Option<Self>) {
        observed.page = answer;
    }
}
