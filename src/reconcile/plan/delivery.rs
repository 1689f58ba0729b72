//! The CloudFront part of the plan. With delivery CloudFront: the distribution, once the origin has
//! a URL to front, created and then kept to the spec. With Direct: a distribution the stream had
//! goes once nothing else is left to do (its URLs have moved back to the origin) — disabled, then,
//! once CloudFront has deployed that, deleted.

use super::{Desired, Step};
use crate::{
    api::DeliveryMode,
    aws::{Kind, Managed},
    observe::Observed,
};

/// How the stream reaches viewers, and the player bucket a distribution fronts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub mode: DeliveryMode,
    /// The bucket of the stream's player page, when it publishes one.
    pub bucket: Option<String>,
    pub region: String,
}

/// The distribution's step, if any; `Err(what)`: CloudFront is deploying it, nothing to do but wait.
pub fn distribution(observed: &Observed, desired: &Desired) -> Result<Option<Step>, String> {
    let (Some(want), found) = (&desired.distribution, &observed.distribution) else {
        return Ok(None);
    };
    match found {
        None => Ok(Some(Step::Create(Kind::Distribution.main()))),
        Some(d) if d.differs(want) => Ok(Some(Step::Update(Kind::Distribution.main()))),
        Some(d) if !d.deployed() => Err(format!("CloudFront is deploying distribution {}", d.id)),
        Some(_) => Ok(None),
    }
}

/// Whether the player page may be published: with CloudFront it links to the distribution, so it
/// waits for one.
pub fn page_ready(observed: &Observed, desired: &Desired) -> bool {
    desired.delivery.mode == DeliveryMode::Direct || observed.distribution.is_some()
}

/// With delivery Direct, the distribution the stream no longer uses: disable it, then delete it
/// once deployed. `Err(what)`: the disabled distribution is still deploying.
pub fn retire(observed: &Observed, desired: &Desired) -> Result<Option<Step>, String> {
    let Some(d) = observed.distribution.as_ref() else {
        return Ok(None);
    };
    if desired.delivery.mode != DeliveryMode::Direct {
        return Ok(None);
    }
    if d.enabled() || d.deployed() {
        Ok(Some(Step::Delete(Kind::Distribution.main())))
    } else {
        Err(format!("CloudFront is deploying the disabled distribution {}", d.id))
    }
}
