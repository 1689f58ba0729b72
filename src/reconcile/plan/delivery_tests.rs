//! The CloudFront part of the plan: created once the origin serves, the page only after it, Ready
//! only once deployed, updates that keep the stream Ready, and the move back to Direct.

use super::{
    tests::{ROLE, UID, apply, flags, names, spec},
    *,
};
use crate::{
    api::{LiveStream, PriceClass},
    desired::{cloudfront, ingest::IngestTarget},
};

fn stream(spec: &LiveStreamSpec) -> LiveStream {
    let mut s = LiveStream::new("a", spec.clone());
    s.metadata.namespace = Some("events".into());
    s.metadata.uid = Some(UID.into());
    s
}

fn desired(spec: &LiveStreamSpec, observed: &Observed, mode: DeliveryMode) -> Desired {
    let target = IngestTarget::public(&spec.input);
    let packaging = Packaging {
        version: PackagingVersion::V1,
        group: "live".into(),
        placed: false,
    };
    let origin = observed.playback(PackagingVersion::V1).hls;
    let player = cloudfront::PlayerBucket {
        bucket: "pages",
        region: "us-east-1",
    };
    let price = spec.delivery.price_class;
    let distribution = cloudfront::distribution(&stream(spec), origin.as_deref(), Some(player), price);
    let delivery = Delivery {
        mode,
        bucket: Some("pages".into()),
        region: "us-east-1".into(),
    };
    Desired::of(
        &super::Asks::of(spec).unwrap(),
        &names(),
        "d".into(),
        ROLE,
        Some(&target),
        observed,
        &packaging,
    )
    .with_delivery(delivery, distribution)
    .with_page(Some(&super::tests::site()), observed)
}

/// Plans and applies until the plan is empty; every round's steps and the last plan.
fn converge(
    spec: &LiveStreamSpec,
    observed: &mut Observed,
    flags: &Flags,
    mode: DeliveryMode,
) -> (Vec<Vec<Step>>, Plan) {
    let mut rounds = Vec::new();
    for _ in 0..8 {
        let desired = desired(spec, observed, mode);
        let plan = plan(UID, observed, &desired, flags);
        if plan.steps.is_empty() {
            return (rounds, plan);
        }
        for step in &plan.steps {
            apply(observed, &desired, step);
        }
        rounds.push(plan.steps);
    }
    panic!("the plan did not settle: {rounds:?}");
}

fn deployed(observed: &mut Observed) {
    observed.distribution.as_mut().unwrap().status = "Deployed".into();
}

#[test]
fn the_distribution_follows_the_endpoint_and_the_page_follows_the_distribution() {
    let mut observed = Observed::default();
    let (rounds, last) = converge(&spec(), &mut observed, &flags(), DeliveryMode::CloudFront);
    let at = |step: &Step| rounds.iter().position(|r| r.contains(step));
    let endpoint = at(&Step::Create(Kind::Endpoint.main())).unwrap();
    let distribution = at(&Step::Create(Kind::Distribution.main())).unwrap();
    let page = at(&Step::Create(Kind::Page.main())).unwrap();
    assert!(endpoint < distribution && distribution < page, "{rounds:?}");
    // Not Ready while CloudFront deploys the new distribution; the channel is created meanwhile.
    assert!(at(&Step::Create(Kind::Channel.main())).is_some());
    assert!(
        matches!(&last.outcome, Outcome::Transition(what) if what.contains("deploying")),
        "{last:?}"
    );
    deployed(&mut observed);
    let (again, last) = converge(&spec(), &mut observed, &flags(), DeliveryMode::CloudFront);
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
}

#[test]
fn a_spec_change_updates_the_distribution_and_an_update_keeps_the_stream_ready() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags(), DeliveryMode::CloudFront);
    deployed(&mut observed);
    let mut changed = spec();
    changed.delivery.price_class = PriceClass::PriceClass_All;
    let seen = Flags {
        distribution_deployed_before: true,
        ..flags()
    };
    let (rounds, last) = converge(&changed, &mut observed, &seen, DeliveryMode::CloudFront);
    assert_eq!(rounds, vec![vec![Step::Update(Kind::Distribution.main())]]);
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    let shape = &observed.distribution.as_ref().unwrap().shape;
    assert_eq!(shape.price_class, "PriceClass_All");
}

#[test]
fn moving_to_direct_disables_then_deletes_the_distribution_once_deployed() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags(), DeliveryMode::CloudFront);
    deployed(&mut observed);
    let (rounds, _) = converge(&spec(), &mut observed, &flags(), DeliveryMode::Direct);
    // The page links to the direct URLs before the distribution goes.
    assert_eq!(
        rounds,
        vec![
            vec![Step::Update(Kind::Page.main())],
            vec![Step::Delete(Kind::Distribution.main())]
        ]
    );
    let d = observed.distribution.as_ref().unwrap();
    assert!(!d.enabled() && !d.deployed(), "disabled, deploying");
    // Nothing to do while CloudFront deploys the disable; the stream is Ready on its direct URLs.
    let (rounds, last) = converge(&spec(), &mut observed, &flags(), DeliveryMode::Direct);
    assert!(rounds.is_empty());
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    deployed(&mut observed);
    let (rounds, _) = converge(&spec(), &mut observed, &flags(), DeliveryMode::Direct);
    assert_eq!(rounds, vec![vec![Step::Delete(Kind::Distribution.main())]]);
    assert!(observed.distribution.is_none());
}

#[test]
fn a_direct_stream_never_gets_a_distribution() {
    let mut observed = Observed::default();
    let (rounds, _) = converge(&spec(), &mut observed, &flags(), DeliveryMode::Direct);
    assert!(rounds.iter().flatten().all(|s| !matches!(
        s,
        Step::Create(Ref {
            kind: Kind::Distribution,
            ..
        })
    )));
    assert_eq!(observed.distribution, None);
}
