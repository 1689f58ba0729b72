//! The MediaPackage v2 part of the plan: the channel (in its shared group), then one origin
//! endpoint per manifest kind the spec enables; and, once the MediaLive channel writes to the
//! version the spec asks for, the retirement of the other version's resources.

use super::{Blocker, Desired, Step};
use crate::{
    api::PackagingVersion,
    aws::{Kind, Managed, Ref},
    desired::mediapackagev2::ManifestKind,
    observe::Observed,
};

/// The origin endpoint named `name`: its role is its manifest kind.
fn endpoint(name: &str) -> Option<Ref> {
    ManifestKind::named(name).map(|kind| Kind::OriginEndpoint.role(kind.role()))
}

fn conflict(what: &'static str, id: String, owner: &Option<String>) -> Blocker {
    Blocker::NameConflict {
        what,
        id,
        owner: owner.clone(),
    }
}

/// The v2 channel and its endpoints; an id someone else owns blocks everything.
pub fn packaging_v2(uid: &str, observed: &Observed, desired: &Desired, steps: &mut Vec<Step>) -> Option<Blocker> {
    let v2 = observed.v2.as_ref().filter(|v2| v2.group == desired.v2_channel.group);
    let Some(channel) = v2.and_then(|v2| v2.channel.as_ref()) else {
        steps.push(Step::Create(Kind::ChannelV2.main()));
        return None;
    };
    if channel.owner.as_deref() != Some(uid) {
        let id = format!("{}/{}", channel.group, channel.name);
        return Some(conflict("MediaPackage v2 channel", id, &channel.owner_name));
    }
    let endpoints = v2.map(|v2| v2.endpoints.as_slice()).unwrap_or_default();
    for want in &desired.v2_endpoints {
        match endpoints.iter().find(|e| e.name == want.name) {
            None => steps.push(Step::Create(Kind::OriginEndpoint.role(want.kind.role()))),
            Some(e) if e.owner.as_deref() != Some(uid) => {
                let id = format!("{}/{}/{}", channel.group, channel.name, e.name);
                return Some(conflict("MediaPackage v2 origin endpoint", id, &e.owner_name));
            }
            // Deleted when its container changed: created again next round.
            Some(e) if e.needs_replacing(want) => steps.push(Step::Delete(Kind::OriginEndpoint.role(want.kind.role()))),
            Some(e) if e.differs(want) => steps.push(Step::Update(Kind::OriginEndpoint.role(want.kind.role()))),
            Some(_) => {}
        }
    }
    let turned_off = endpoints
        .iter()
        .filter(|e| e.owner.as_deref() == Some(uid) && !desired.v2_endpoints.iter().any(|w| w.name == e.name));
    steps.extend(turned_off.filter_map(|e| endpoint(&e.name)).map(Step::Delete));
    None
}

/// Once nothing else is left to do, the other version's resources go, endpoints first. Only then:
/// the MediaLive channel has converged on the new destination (or there is none), so nothing
/// still writes to or plays from them.
pub fn retire(uid: &str, observed: &Observed, desired: &Desired) -> Vec<Step> {
    let mine = |owner: Option<&str>| owner == Some(uid);
    match desired.version {
        PackagingVersion::V2 => {
            if observed.endpoint.as_ref().is_some_and(|e| mine(e.owner.as_deref())) {
                return vec![Step::Delete(Kind::Endpoint.main())];
            }
            let v1 = observed
                .package_channel
                .as_ref()
                .is_some_and(|c| mine(c.owner.as_deref()));
            v1.then_some(Step::Delete(Kind::PackageChannel.main()))
                .into_iter()
                .collect()
        }
        PackagingVersion::V1 => {
            let Some(v2) = observed.v2.as_ref() else {
                return Vec::new();
            };
            let owned = v2.endpoints.iter().filter(|e| mine(e.owner.as_deref()));
            let endpoints: Vec<Step> = owned.filter_map(|e| endpoint(&e.name)).map(Step::Delete).collect();
            if !endpoints.is_empty() {
                return endpoints;
            }
            let channel = v2.channel.as_ref().is_some_and(|c| mine(c.owner.as_deref()));
            channel
                .then_some(Step::Delete(Kind::ChannelV2.main()))
                .into_iter()
                .collect()
        }
    }
}
