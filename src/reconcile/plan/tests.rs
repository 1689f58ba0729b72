//! The whole pass as a plan: from an empty account to a running channel, round by round, and what
//! each kind's state, the stream key and the update policy make of it.

use aws_sdk_medialive::types::{ChannelState, InputState};
use serde_json::json;

use super::*;
use crate::{
    api::LiveStreamSpec,
    aws::cloudfront::Distribution,
    aws::each_kind,
    aws::{
        Channel, Endpoint, Input, PackageChannel, SecurityGroup, origin_endpoint::OriginEndpoint,
        package_v2::ChannelV2, page::Page,
    },
    desired::ingest::IngestTarget,
    observe::Slot,
};

pub(super) const UID: &str = "uid-1";
pub(super) const ROLE: &str = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";

pub(super) fn spec() -> LiveStreamSpec {
    serde_json::from_value(json!({"input": {"allowedCidrs": ["203.0.113.0/24"], "streamName": "live/a"}})).unwrap()
}

pub(super) fn names() -> Names {
    Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "a".into(),
        endpoint: "a-hls".into(),
    }
}

pub(super) fn flags() -> Flags {
    Flags {
        key_known: true,
        running: false,
        guarded: false,
        fires: None,
        update_policy: UpdatePolicy::Manual,
        page_refused: false,
        input_update_refused: false,
        distribution_deployed_before: false,
    }
}

/// The spec's packaging version; unset here means v1, the version of the older tests.
pub(super) fn desired(spec: &LiveStreamSpec, observed: &Observed, key_known: bool) -> Desired {
    desired_for(spec, observed, key_known.then_some(&IngestTarget::public(&spec.input)))
}

/// The same, for the input `target` (an SRT input with its passphrase, say).
pub(super) fn desired_for(spec: &LiveStreamSpec, observed: &Observed, target: Option<&IngestTarget>) -> Desired {
    let packaging = Packaging {
        version: spec.packaging.version.unwrap_or(PackagingVersion::V1),
        group: "live".into(),
        placed: false,
    };
    Desired::of(
        &super::Asks::of(spec).unwrap(),
        &names(),
        "d".into(),
        ROLE,
        target,
        observed,
        &packaging,
    )
}

fn v2_endpoint(want: &crate::desired::mediapackagev2::EndpointRequest) -> OriginEndpoint {
    OriginEndpoint {
        group: want.group.clone(),
        channel: want.channel.clone(),
        name: want.name.clone(),
        arn: format!(
            "arn:aws:mediapackagev2:us-east-1:1:channelGroup/live/channel/a/originEndpoint/{}",
            want.name
        ),
        owner: Some(UID.to_owned()),
        owner_name: None,
        e_tag: Some("1".into()),
        settings: Some(want.clone()),
        url: Some(format!("http://egress/out/v1/live/a/{}/index.m3u8", want.name)),
    }
}

/// What AWS would answer to each step, folded into the snapshot by the executor's own fold
/// (`Held::fold`).
pub(super) fn apply(observed: &mut Observed, desired: &Desired, step: &Step) {
    match step {
        Step::Create(what) | Step::Update(what) => made(observed, desired, *what),
        Step::Delete(what) => down(observed, *what),
        Step::Start(_) => observed.channel.as_mut().unwrap().state = ChannelState::Running,
        Step::Stop(..) => observed.channel.as_mut().unwrap().state = ChannelState::Idle,
    }
}

/// One step down, as the kind's teardown says: an enabled distribution is disabled (CloudFront
/// then deploys that), anything else deleted.
fn down(observed: &mut Observed, what: Ref) {
    if let Some(d) = observed
        .distribution
        .as_ref()
        .filter(|d| what.kind == Kind::Distribution && d.enabled())
    {
        let mut disabled = d.clone();
        (disabled.shape.enabled, disabled.status) = (false, "InProgress".into());
        return Distribution::fold(observed, what.role, Some(disabled));
    }
    each_kind!(what.kind, |K| {
        assert!(
            K::observed(observed, what.role).is_some(),
            "{what:?} is there to delete"
        );
        K::fold(observed, what.role, None)
    })
}

/// The answer to a create or an update of `what`: the resource as the spec asks for it.
fn made(observed: &mut Observed, desired: &Desired, what: Ref) {
    let owner = Some(UID.to_owned());
    match what.kind {
        Kind::PackageChannel => PackageChannel::fold(
            observed,
            what.role,
            Some(PackageChannel {
                id: desired.package_channel.id.clone(),
                owner,
                owner_name: None,
            }),
        ),
        Kind::Endpoint => Endpoint::fold(
            observed,
            what.role,
            Some(Endpoint {
                id: desired.endpoint.id.clone(),
                owner,
                owner_name: None,
                url: Some("http://origin/out/v1/a/index.m3u8".into()),
                hls: Some(desired.endpoint.hls.clone()),
            }),
        ),
        Kind::SecurityGroup => SecurityGroup::fold(
            observed,
            what.role,
            Some(SecurityGroup {
                id: "1234".into(),
                owner,
                cidrs: desired.cidrs.clone(),
            }),
        ),
        Kind::Input => {
            let request = &desired.inputs[&what.role];
            let urls: Vec<String> = (0..request.pipelines)
                .map(|p| match request.target.srt() {
                    Some(_) => format!("srt://127.0.0.{}:5000", p + 1),
                    None => format!("rtmp://127.0.0.{}:1935/{}", p + 1, request.target.describe()),
                })
                .collect();
            let input = Input {
                input_type: None,
                srt: request.srt_fingerprint(),
                id: format!("5678{}", what.role.as_str()),
                owner,
                role: what.role,
                state: InputState::Detached,
                url: urls.first().cloned(),
                urls,
                security_groups: vec![request.security_group.clone()],
            };
            Input::fold(observed, what.role, Some(input));
        }
        Kind::Channel => {
            let settings = desired.channel.as_ref().unwrap();
            Channel::fold(
                observed,
                what.role,
                Some(Channel {
                    id: "9".into(),
                    arn: None,
                    owner,
                    state: ChannelState::Idle,
                    settings: Some(settings.request.clone()),
                    corrected: None,
                }),
            )
        }
        Kind::ChannelV2 => {
            let channel = ChannelV2 {
                modified_at: None,
                group: desired.v2_channel.group.clone(),
                name: desired.v2_channel.name.clone(),
                arn: "arn:aws:mediapackagev2:us-east-1:1:channelGroup/live/channel/a".into(),
                owner,
                owner_name: None,
            };
            ChannelV2::fold(observed, what.role, Some(channel))
        }
        Kind::OriginEndpoint => {
            let want = desired
                .v2_endpoints
                .iter()
                .find(|w| w.kind.role() == what.role)
                .unwrap();
            OriginEndpoint::fold(observed, what.role, Some(v2_endpoint(want)));
        }
        Kind::Distribution => {
            let want = desired.distribution.as_ref().unwrap();
            let made = Distribution {
                id: "E2DIST".into(),
                arn: "arn:aws:cloudfront::123456789012:distribution/E2DIST".into(),
                domain: "d1.cloudfront.net".into(),
                status: "InProgress".into(),
                e_tag: Some("E1".into()),
                shape: want.shape.clone(),
                caller_reference: want.caller_reference.clone(),
                oac_id: Some("EOAC".into()),
                last_modified: None,
            };
            Distribution::fold(observed, what.role, Some(made))
        }
        Kind::Secret => {
            let want = desired.secret.as_ref().unwrap();
            let secret = crate::aws::secret::Secret {
                arn: format!("arn:aws:secretsmanager:us-east-1:1:secret:{}-AbCdEf", want.name),
                name: want.name.clone(),
                owner,
                version: Some(want.version.clone()),
                recovery_window_days: None,
            };
            crate::aws::secret::Secret::fold(observed, what.role, Some(secret))
        }
        Kind::Page => {
            let want = desired.page.as_ref().unwrap();
            let page = Page::recorded(Some(&want.bucket), Some(&want.digest), &want.prefix, UID);
            Page::fold(observed, what.role, page)
        }
    }
}

/// Plans and applies until the plan is empty; every round's steps.
pub(super) fn converge(spec: &LiveStreamSpec, observed: &mut Observed, flags: &Flags) -> (Vec<Vec<Step>>, Plan) {
    let mut rounds = Vec::new();
    for _ in 0..6 {
        let desired = desired(spec, observed, flags.key_known);
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

#[test]
fn an_empty_account_is_built_in_dependency_order_and_then_left_alone() {
    let mut observed = Observed::default();
    let (rounds, last) = converge(&spec(), &mut observed, &flags());
    assert_eq!(
        rounds,
        vec![
            vec![
                Step::Create(Kind::PackageChannel.main()),
                Step::Create(Kind::SecurityGroup.main())
            ],
            vec![
                Step::Create(Kind::Endpoint.main()),
                Step::Create(Kind::Input.role(Role::Primary))
            ],
            vec![Step::Create(Kind::Channel.main())],
        ]
    );
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    // The next pass over the same account does nothing.
    let (again, _) = converge(&spec(), &mut observed, &flags());
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn running_true_starts_the_idle_channel_and_false_stops_it() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let running = Flags {
        running: true,
        ..flags()
    };
    let (rounds, _) = converge(&spec(), &mut observed, &running);
    assert_eq!(rounds, vec![vec![Step::Start(Kind::Channel.main())]]);
    let (rounds, _) = converge(&spec(), &mut observed, &flags());
    assert_eq!(
        rounds,
        vec![vec![Step::Stop(Kind::Channel.main(), StopReason::NotRunning)]]
    );
}

#[test]
fn adopted_resources_are_never_created_again() {
    // A create whose answer was lost: the next pass's snapshot (found by owner tag) holds it, so
    // the plan goes on from there and creates only what is missing.
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let full = observed.clone();
    for missing in [
        Kind::Channel,
        Kind::Input,
        Kind::SecurityGroup,
        Kind::Endpoint,
        Kind::PackageChannel,
    ] {
        let mut partial = full.clone();
        match missing {
            Kind::Channel => partial.channel = None,
            Kind::Input => {
                partial.inputs.clear();
                partial.channel = None;
            }
            Kind::SecurityGroup => {
                partial.inputs.clear();
                (partial.security_group, partial.channel) = (None, None);
            }
            Kind::Endpoint => partial.endpoint = None,
            Kind::PackageChannel => (partial.package_channel, partial.endpoint) = (None, None),
            Kind::ChannelV2 | Kind::OriginEndpoint | Kind::Distribution | Kind::Page | Kind::Secret => {
                unreachable!("a v1 RTMP stream without CloudFront or a page")
            }
        }
        let present = |o: &Observed, kind| match kind {
            Kind::Channel => o.channel.is_some(),
            Kind::Input => !o.inputs.is_empty(),
            Kind::SecurityGroup => o.security_group.is_some(),
            Kind::Endpoint => o.endpoint.is_some(),
            Kind::PackageChannel => o.package_channel.is_some(),
            Kind::ChannelV2 | Kind::OriginEndpoint => o.v2.is_some(),
            Kind::Distribution => o.distribution.is_some(),
            Kind::Page => o.page.is_some(),
            Kind::Secret => o.secret.is_some(),
        };
        let before = partial.clone();
        let (rounds, last) = converge(&spec(), &mut partial, &flags());
        for step in rounds.iter().flatten() {
            if let Step::Create(kind) = step {
                assert!(
                    !present(&before, kind.kind),
                    "{missing:?} missing: {kind:?} created again"
                );
            }
        }
        assert_eq!(last.outcome, Outcome::Steady { update_pending: None }, "{missing:?}");
    }
}

#[test]
fn a_mediapackage_id_taken_by_someone_else_blocks_before_anything_is_done() {
    let foreign = Observed {
        package_channel: Some(PackageChannel {
            id: "a".into(),
            owner: Some("another-uid".into()),
            owner_name: Some("team-b/a".into()),
        }),
        ..Default::default()
    };
    let desired = desired(&spec(), &foreign, true);
    let plan = plan(UID, &foreign, &desired, &flags());
    assert!(plan.steps.is_empty());
    assert!(matches!(
        plan.outcome,
        Outcome::Blocked(Blocker::NameConflict { ref owner, .. }) if owner.as_deref() == Some("team-b/a")
    ));
}

#[test]
fn the_stream_key_states_never_create_or_change_an_input_they_cannot_read() {
    // Unreadable key, no input yet: MediaPackage and the security group are built, no input.
    let mut observed = Observed::default();
    let unknown = Flags {
        key_known: false,
        ..flags()
    };
    let (rounds, last) = converge(&spec(), &mut observed, &unknown);
    assert!(!rounds.iter().flatten().any(|s| matches!(
        s,
        Step::Create(Ref { kind: Kind::Input, .. }) | Step::Update(Ref { kind: Kind::Input, .. })
    )));
    assert_eq!(last.outcome, Outcome::Blocked(Blocker::StreamKey));
    // With an input: it stays as it is, the channel still starts, the problem is reported.
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let (rounds, last) = converge(
        &spec(),
        &mut observed,
        &Flags {
            running: true,
            ..unknown
        },
    );
    assert_eq!(rounds, vec![vec![Step::Start(Kind::Channel.main())]]);
    assert!(last.report_stream_key);
}

#[test]
fn a_new_stream_name_waits_for_a_running_channel_to_stop_under_manual_and_restarts_under_restart() {
    let mut observed = Observed::default();
    let running = Flags {
        running: true,
        ..flags()
    };
    converge(&spec(), &mut observed, &running);
    let mut renamed = spec();
    renamed.input.stream_name = "live/b".into();
    let (rounds, last) = converge(&renamed, &mut observed, &running);
    assert!(rounds.is_empty(), "{rounds:?}");
    assert!(matches!(last.outcome, Outcome::Steady { update_pending: Some(ref m) } if m.contains("live/b")));
    let restart = Flags {
        update_policy: UpdatePolicy::Restart,
        ..running
    };
    let desired = desired(&renamed, &observed, true);
    let plan = plan(UID, &observed, &desired, &restart);
    assert_eq!(plan.steps, vec![Step::Stop(Kind::Channel.main(), StopReason::Restart)]);
}

#[test]
fn spec_edits_become_updates_of_the_kind_they_touch() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let mut edited = spec();
    edited.input.allowed_cidrs = vec!["198.51.100.0/24".into()];
    edited.packaging.hls.playlist_window_seconds = 120;
    edited.encoding.renditions[0].bits_per_second = 4_000_000;
    let (rounds, _) = converge(&edited, &mut observed, &flags());
    assert_eq!(
        rounds,
        vec![
            vec![
                Step::Update(Kind::Endpoint.main()),
                Step::Update(Kind::SecurityGroup.main())
            ],
            vec![Step::Update(Kind::Channel.main())],
        ]
    );
}

pub(super) fn site() -> crate::desired::website::Site {
    crate::desired::website::Site {
        bucket: "pages".into(),
        prefix: "livestreams/events/a/".into(),
        title: "a".into(),
        direct_url: "http://s3/pages/livestreams/events/a/index.html".into(),
    }
}

#[test]
fn the_player_page_is_published_once_the_endpoint_exists_and_again_when_it_changes() {
    let with_page = |observed: &Observed| desired(&spec(), observed, true).with_page(Some(&site()), observed);
    let empty = Observed::default();
    let plan_empty = plan(UID, &empty, &with_page(&empty), &flags());
    assert!(!plan_empty.steps.contains(&Step::Create(Kind::Page.main())));
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let publish = plan(UID, &observed, &with_page(&observed), &flags());
    assert_eq!(publish.steps, vec![Step::Create(Kind::Page.main())]);
    let asked = with_page(&observed);
    apply(&mut observed, &asked, &publish.steps[0]);
    assert!(plan(UID, &observed, &with_page(&observed), &flags()).steps.is_empty());
    let refused = Flags {
        page_refused: true,
        ..flags()
    };
    // A new playback URL is a new page; refused by S3 this pass, it is not asked again.
    observed.endpoint.as_mut().unwrap().url = Some("http://origin/out/v1/b/index.m3u8".into());
    let republish = plan(UID, &observed, &with_page(&observed), &flags());
    assert_eq!(republish.steps, vec![Step::Update(Kind::Page.main())]);
    assert!(plan(UID, &observed, &with_page(&observed), &refused).steps.is_empty());
}

#[test]
fn the_channel_waits_while_its_input_is_being_created() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    observed.channel = None;
    observed.inputs.get_mut(&Role::Primary).unwrap().state = InputState::Creating;
    let plan = plan(UID, &observed, &desired(&spec(), &observed, true), &flags());
    assert!(plan.steps.is_empty());
    assert!(matches!(plan.outcome, Outcome::Transition(_)));
}

fn v2_spec() -> LiveStreamSpec {
    let mut spec = spec();
    spec.packaging.version = Some(PackagingVersion::V2);
    spec
}

#[test]
fn a_v2_stream_gets_its_channel_then_three_endpoints_then_the_medialive_channel() {
    let mut observed = Observed::default();
    let (rounds, last) = converge(&v2_spec(), &mut observed, &flags());
    let endpoint = |role| Step::Create(Kind::OriginEndpoint.role(role));
    assert_eq!(
        rounds,
        vec![
            vec![
                Step::Create(Kind::ChannelV2.main()),
                Step::Create(Kind::SecurityGroup.main())
            ],
            vec![
                endpoint(Role::Hls),
                endpoint(Role::LowLatencyHls),
                endpoint(Role::Dash),
                Step::Create(Kind::Input.role(Role::Primary))
            ],
            vec![Step::Create(Kind::Channel.main())],
        ]
    );
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    assert!(
        observed.package_channel.is_none() && observed.endpoint.is_none(),
        "nothing of v1"
    );
    let playback = observed.playback(PackagingVersion::V2);
    assert!(playback.hls.unwrap().contains("/hls/"));
    assert!(playback.low_latency_hls.unwrap().contains("/llhls/"));
    assert!(playback.dash.is_some());
}

#[test]
fn an_endpoint_turned_off_or_changed_in_the_spec_is_deleted_or_updated() {
    let mut observed = Observed::default();
    converge(&v2_spec(), &mut observed, &flags());
    let mut edited = v2_spec();
    edited.packaging.dash.enabled = false;
    edited.packaging.low_latency_hls.playlist_window_seconds = 120;
    let (rounds, _) = converge(&edited, &mut observed, &flags());
    assert_eq!(
        rounds[0],
        [
            Step::Update(Kind::OriginEndpoint.role(Role::LowLatencyHls)),
            Step::Delete(Kind::OriginEndpoint.role(Role::Dash))
        ]
    );
    // A new container is a new endpoint: deleted, then created again.
    edited.packaging.hls_container = crate::api::Container::Cmaf;
    let (rounds, _) = converge(&edited, &mut observed, &flags());
    assert_eq!(rounds[0], [Step::Delete(Kind::OriginEndpoint.role(Role::Hls))]);
    assert_eq!(rounds[1], [Step::Create(Kind::OriginEndpoint.role(Role::Hls))]);
}

#[test]
fn moving_v1_to_v2_builds_v2_points_the_channel_at_it_and_only_then_removes_v1() {
    let mut observed = Observed::default();
    converge(&spec(), &mut observed, &flags());
    let (rounds, last) = converge(&v2_spec(), &mut observed, &flags());
    let flat: Vec<&Step> = rounds.iter().flatten().collect();
    let at = |step: &Step| {
        flat.iter()
            .position(|s| *s == step)
            .unwrap_or_else(|| panic!("{step:?} in {flat:?}"))
    };
    let channel_update = at(&Step::Update(Kind::Channel.main()));
    assert!(at(&Step::Create(Kind::OriginEndpoint.role(Role::Hls))) < channel_update);
    let retire = |kind: Kind| at(&Step::Delete(kind.main()));
    assert!(channel_update < retire(Kind::Endpoint));
    assert!(retire(Kind::Endpoint) < retire(Kind::PackageChannel));
    assert_eq!(last.outcome, Outcome::Steady { update_pending: None });
    assert!(observed.endpoint.is_none() && observed.package_channel.is_none());
    // And back: v2 goes only after the channel writes to v1 again.
    let (rounds, _) = converge(&spec(), &mut observed, &flags());
    let flat: Vec<&Step> = rounds.iter().flatten().collect();
    let at = |step: &Step| flat.iter().position(|s| *s == step).unwrap();
    // Every endpoint (in one round), then the channel.
    let endpoints = [Role::Hls, Role::LowLatencyHls, Role::Dash].map(|r| Step::Delete(Kind::OriginEndpoint.role(r)));
    let retired = rounds
        .iter()
        .position(|round| *round == endpoints)
        .expect("one round retires the endpoints");
    assert!(at(&Step::Update(Kind::Channel.main())) < at(&endpoints[0]));
    assert_eq!(rounds[retired + 1], [Step::Delete(Kind::ChannelV2.main())]);
}

#[test]
fn a_running_channel_under_manual_keeps_v1_serving_until_it_is_stopped() {
    let mut observed = Observed::default();
    let running = Flags {
        running: true,
        ..flags()
    };
    converge(&spec(), &mut observed, &running);
    let (rounds, last) = converge(&v2_spec(), &mut observed, &running);
    assert!(rounds.iter().flatten().all(|s| !matches!(
        s,
        Step::Delete(_)
            | Step::Update(Ref {
                kind: Kind::Channel,
                ..
            })
    )));
    assert!(matches!(
        last.outcome,
        Outcome::Steady {
            update_pending: Some(_)
        }
    ));
    assert!(
        observed.endpoint.is_some() && observed.package_channel.is_some(),
        "v1 still serves"
    );
}
