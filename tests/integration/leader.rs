//! Two operator replicas with leader election against the real API server: only the lease holder
//! reconciles; kill it and the standby takes over within the lease duration; nothing is created
//! twice; a clean shutdown releases the lease.

use std::time::{Duration, Instant};

use kube::{ResourceExt, api::PostParams};
use livestream_operator::api::{LiveStream, LiveStreamSpec};

use crate::{
    support::checks::assert_exactly_one_each,
    support::cloud::{LocalCloud, eventually},
    support::cluster::{kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, streams},
};

async fn logged(operator: &Operator, what: &str, timeout: Duration) {
    eventually(what, timeout, || async {
        operator.log_text().contains(what).then_some(())
    })
    .await;
}

#[tokio::test]
async fn only_the_lease_holder_reconciles_and_a_standby_takes_over() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("leader");
    let lease = format!("lease-{ns}");
    let args = [
        "--leader-election",
        "--lease-namespace",
        "livestream-system",
        "--lease-name",
        &lease,
        "--lease-duration-seconds",
        "4",
        "--lease-grace-seconds",
        "1",
    ];
    let mut first = Operator::start_with(&cloud, &ns, &args).await;
    logged(&first, "holding the lease", Duration::from_secs(20)).await;
    let mut second = Operator::start_with(&cloud, &ns, &args).await;
    logged(&second, "standing by", Duration::from_secs(20)).await;

    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    assert!(
        first.log_text().contains("Created MediaLive channel"),
        "the holder reconciles"
    );
    assert!(!second.log_text().contains("Created"), "the standby does nothing");
    assert!(!second.log_text().contains("holding the lease"));

    // The holder dies without releasing: the standby takes over once the lease expires.
    first.kill().await;
    let killed = Instant::now();
    logged(&second, "holding the lease", Duration::from_secs(30)).await;
    let takeover = killed.elapsed();
    eprintln!("takeover after SIGKILL of the holder: {takeover:?} (lease 4 s)");
    // The lease runs out 4 s after its last renewal at most; the standby retries every
    // duration − grace = 3 s; 3 s more for a loaded machine.
    assert!(
        takeover < Duration::from_secs(10),
        "took over in {takeover:?} (lease 4 s)"
    );

    let api = streams(&ns).await;
    let spec: LiveStreamSpec = serde_json::from_value(serde_json::json!({})).unwrap();
    let after = api
        .create(&PostParams::default(), &LiveStream::new("after-takeover", spec))
        .await
        .unwrap();
    kubectl_wait(&ns, "condition=Ready", "after-takeover", Duration::from_secs(60));
    let first_uid = api.get("minimal").await.unwrap().uid().unwrap();
    assert_exactly_one_each(&cloud.aws, &[first_uid, after.uid().unwrap()]).await;

    // SIGTERM: in-flight work finishes, the lease is released, the process exits cleanly.
    let terminated = Instant::now();
    let status = second.terminate().await;
    let exit = terminated.elapsed();
    eprintln!("exit after SIGTERM: {exit:?}");
    assert!(status.success(), "clean exit: {status:?}");
    assert!(
        exit < Duration::from_secs(15),
        "well within deploy/'s 30 s grace period: {exit:?}"
    );
    assert!(
        second.log_text().contains("released the lease"),
        "{}",
        second.log_text()
    );
}

#[tokio::test]
async fn sigterm_lets_the_reconcile_in_flight_finish_then_exits() {
    // Every AWS answer takes 400 ms, so a stream's first reconcile is seconds of work.
    let cloud = LocalCloud::start(&["--latency-ms", "400"]).await;
    let ns = namespace("shutdown");
    let mut operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    logged(&operator, "Created MediaPackage channel", Duration::from_secs(30)).await;

    let terminated = Instant::now();
    let status = operator.terminate().await;
    let exit = terminated.elapsed();
    eprintln!("exit after SIGTERM mid-reconcile: {exit:?}");
    assert!(status.success(), "clean exit: {status:?}");
    let log = operator.log_text();
    let after = &log[log.find("shutting down").expect("the signal is logged")..];
    assert!(
        after.contains("Created MediaPackage HLS endpoint"),
        "the reconcile in flight went on after SIGTERM: {after}"
    );
    assert!(after.contains("controller stopped"));
    assert!(
        exit < Duration::from_secs(25),
        "within deploy/'s 30 s grace period: {exit:?}"
    );
}
