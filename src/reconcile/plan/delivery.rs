//! The CloudFront part of the plan. With delivery CloudFront: the distribution, once the origin has
//! a URL to front, created and then kept to the spec. With Direct: a distribution the stream had
//! goes once nothing else is left to do (its URLs have moved back to the origin) — disabled, then,
//! once CloudFront has deployed that, deleted.

use super::{Desired, Step};
use crate::{
    api::DeliveryMode,
    aws::{Kind, Managed},
    desired::{
        cloudfront,
        website::{self, Grant, PageRequest, Site},
    },
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

/// The player page's step, once everything it links to is there. A page the spec no longer asks
/// for (disabled, no bucket) stays until the LiveStream is deleted.
pub fn page(observed: &Observed, desired: &Desired) -> Option<Step> {
    let want = desired.page.as_ref()?;
    match &observed.page {
        None => Some(Step::Create(Kind::Page.main())),
        Some(page) if page.differs(want) => Some(Step::Update(Kind::Page.main())),
        Some(_) => None,
    }
}

impl Desired {
    /// The player page of `site`, linking to the playback URLs the snapshot has; with delivery
    /// CloudFront through the distribution, which it waits for.
    pub fn with_page(mut self, site: Option<&Site>, observed: &Observed) -> Self {
        self.page = site.and_then(|site| self.page_of(site, observed));
        self
    }

    fn page_of(&self, site: &Site, observed: &Observed) -> Option<PageRequest> {
        let urls = observed.delivered(self.version, self.delivery.mode);
        let playback = urls.hls.as_deref()?;
        let (grant, url) = match self.delivery.mode {
            DeliveryMode::Direct => (Grant::new(&site.bucket), Some(site.direct_url.clone())),
            DeliveryMode::CloudFront => {
                // The viewer URL keeps the origin's scheme, which the page's URL takes too.
                let d = observed.distribution.as_ref()?;
                let account = d.account().unwrap_or_default();
                let url = cloudfront::website_url(playback, &d.domain, &site.prefix);
                (Grant::cloudfront(&site.bucket, account), url)
            }
        };
        let objects = website::objects(&site.title, playback, urls.low_latency_hls.as_deref());
        Some(PageRequest {
            bucket: site.bucket.clone(),
            prefix: site.prefix.clone(),
            digest: website::digest(&objects),
            objects,
            grant,
            url,
        })
    }
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
