//! livestream-local as an attacker finds it, while a legitimate channel streams: path traversal
//! through S3 keys, a body nested 20,000 deep from a key without rights, empty and trickling TCP
//! connections to an RTMP input and to the API, the admin API unsigned or signed by the wrong key,
//! a security setting sent with only unknown elements, and bodies that do not match their
//! signature. Nothing leaks, nothing changes, the server stays up with bounded CPU and memory, and
//! the channel keeps producing segments.

use std::time::{Duration, Instant};

use aws_sdk_medialive::types::ChannelState;
use livestream_operator::{api::LiveStreamSpec, desired::Names};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::support::cloud::{LocalCloud, eventually, http_get, key_file, publish, shipped_policy, status_and_body};

/// A key that may only read, write and delete objects in `attacker-bucket`.
const ATTACKER: (&str, &str) = ("AKIAATTACKER", "attacker-secret");
const SECRET: &str = "the private recording";

/// A request signed by `key` for `service` with curl's own SigV4 (an independent signer); S3
/// requests carry their payload's hash, as S3 requires. `(status, body)`.
async fn signed(
    key: (&str, &str),
    service: &str,
    method: &str,
    url: &str,
    body: &[u8],
    extra: &[&str],
) -> (u16, String) {
    let mut curl = Command::new("curl");
    curl.args(["-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", "-X", method])
        .args(["--aws-sigv4", &format!("aws:amz:us-east-1:{service}"), "--user"])
        .arg(format!("{}:{}", key.0, key.1))
        .args(extra);
    if service == "s3" && !extra.iter().any(|h| h.starts_with("x-amz-content-sha256")) {
        curl.args(["-H", &format!("x-amz-content-sha256: {}", hex(&Sha256::digest(body)))]);
    }
    if !body.is_empty() {
        curl.arg("--data-binary").arg("@-").stdin(std::process::Stdio::piped());
    }
    curl.stdout(std::process::Stdio::piped());
    let mut child = curl.arg(url).spawn().unwrap();
    if !body.is_empty() {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(body).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    status_and_body(&out.stdout)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Clock ticks (user + system) the process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The process's resident memory in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

/// Whether `bucket` still blocks public policies.
async fn blocks_public_policy(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    let block = s3.get_public_access_block().bucket(bucket).send().await.unwrap();
    block
        .public_access_block_configuration
        .and_then(|c| c.block_public_policy)
        == Some(true)
}

/// The media sequence number of the channel's first variant playlist.
async fn media_sequence(playback: &str) -> Option<u64> {
    let (_, master) = http_get(playback).await;
    let variant = master.lines().find(|l| !l.starts_with('#') && !l.is_empty())?;
    let (_, media) = http_get(&playback.replace("index.m3u8", variant)).await;
    media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")?.trim().parse().ok())
}

/// Whether the server closes `peer` within `within` while it goes on sending `byte` once a
/// second (a trickler that never stops: only a deadline, not an idle timeout, can end it).
async fn trickled_until_closed(mut peer: TcpStream, byte: u8, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if peer.write_all(&[byte]).await.is_err() {
            return true;
        }
        match tokio::time::timeout(Duration::from_secs(1), peer.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    false
}

#[tokio::test]
async fn an_attacker_leaks_nothing_changes_nothing_and_the_stream_plays_on() {
    let attacker = json!({"accessKeyId": ATTACKER.0, "secretAccessKey": ATTACKER.1, "user": "attacker",
        "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::attacker-bucket/*"}]}});
    let cloud = LocalCloud::start_with_keys(&[], &key_file(&shipped_policy(), &[attacker])).await;
    let (e, pid, s3) = (cloud.endpoint.clone(), cloud.pid(), &cloud.aws.s3);

    // A legitimate channel streams throughout.
    let spec: LiveStreamSpec = serde_json::from_value(json!({
        "input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/hostile"},
        "packaging": {"hls": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 8}}
    }))
    .unwrap();
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "hostile".into(),
        endpoint: "hostile-hls".into(),
    };
    let channel = cloud.test_channel(&spec, &names).await;
    let ml = &cloud.aws.medialive;
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;
    let mut publisher = publish(&channel.ingest, 120);
    let first = eventually("the channel's first segments", Duration::from_secs(45), || {
        media_sequence(&channel.playback)
    })
    .await;

    // Three buckets: one public (its owner turned Block Public Access off), one private holding
    // a secret, and the attacker's own.
    for bucket in ["public-bucket", "private-bucket", "attacker-bucket"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.delete_public_access_block()
        .bucket("public-bucket")
        .send()
        .await
        .unwrap();
    let public_read = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-bucket/*"}]});
    s3.put_bucket_policy()
        .bucket("public-bucket")
        .policy(public_read.to_string())
        .send()
        .await
        .unwrap();
    let put = |bucket: &'static str, key: &'static str, body: &'static str| {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
    };
    put("public-bucket", "page.html", "public").await.unwrap();
    put("private-bucket", "secret.txt", SECRET).await.unwrap();
    let before = cpu_ticks(pid);

    // 1. Traversal, anonymous: `..` decoded or encoded, through the public bucket.
    for path in [
        "/public-bucket/../private-bucket/secret.txt",
        "/public-bucket/%2e%2e/private-bucket/secret.txt",
        "/public-bucket/..%2Fprivate-bucket%2Fsecret.txt",
        "/public-bucket//private-bucket/secret.txt",
    ] {
        let out = Command::new("curl")
            .args(["-s", "--path-as-is", &format!("{e}{path}")])
            .output()
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        assert!(!body.contains(SECRET), "{path} leaked the private object: {body}");
    }
    assert_eq!(
        http_get(&format!("{e}/public-bucket/page.html")).await,
        (200, "public".into())
    );

    // 2. Traversal with a key allowed to write one bucket: the writes land as keys of that bucket.
    let aimed = [
        "../private-bucket/secret.txt",
        "../.settings/private-bucket.json",
        "../.policies/private-bucket.json",
        "/etc/passwd",
    ];
    for key in aimed {
        let url = format!("{e}/attacker-bucket/{key}");
        let (status, body) = signed(ATTACKER, "s3", "PUT", &url, br#"{"owned": true}"#, &[]).await;
        assert_eq!(status, 200, "the attacker's own bucket takes the key {key}: {body}");
    }
    let listed = s3.list_objects_v2().bucket("attacker-bucket").send().await.unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "../.policies/private-bucket.json",
            "../.settings/private-bucket.json",
            "../private-bucket/secret.txt",
            "/etc/passwd"
        ],
        "each write is an object of attacker-bucket, under the key as sent"
    );
    let secret = s3
        .get_object()
        .bucket("private-bucket")
        .key("secret.txt")
        .send()
        .await
        .unwrap();
    let secret = secret.body.collect().await.unwrap().into_bytes();
    assert_eq!(&secret[..], SECRET.as_bytes(), "the private object is unchanged");
    assert!(
        blocks_public_policy(s3, "private-bucket").await,
        "the private bucket's settings are unchanged"
    );
    assert!(
        s3.get_bucket_policy().bucket("private-bucket").send().await.is_err(),
        "no policy appeared"
    );
    let (status, _) = signed(
        ATTACKER,
        "s3",
        "GET",
        &format!("{e}/private-bucket/secret.txt"),
        b"",
        &[],
    )
    .await;
    assert_eq!(status, 403, "the attacker's key reads no other bucket");

    // 3. A DistributionConfig nested 20,000 deep, signed by a key without CloudFront rights:
    // refused before the body is read; from the administrator: malformed, and the server lives.
    let deep = format!(
        "<DistributionConfig xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">{}{}</DistributionConfig>",
        "<Origins>".repeat(20_000),
        "</Origins>".repeat(20_000)
    );
    let url = format!("{e}/2020-05-31/distribution");
    let (status, body) = signed(ATTACKER, "cloudfront", "POST", &url, deep.as_bytes(), &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
    let (status, body) = signed(("local", "local"), "cloudfront", "POST", &url, deep.as_bytes(), &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("MalformedInput"), "{body}");
    assert_eq!(http_get(&format!("{e}/healthz")).await.0, 200);

    // 4. The admin API: unsigned, or signed by a key that is no administrator, changes nothing.
    let takeover = json!({"keys": [{"accessKeyId": "x", "secretAccessKey": "x", "administrator": true}]});
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "PUT", "--data-binary"])
        .arg(takeover.to_string())
        .arg(format!("{e}/_local/credentials"))
        .output()
        .await
        .unwrap();
    let (status, _) = status_and_body(&out.stdout);
    assert_eq!(status, 403, "an unsigned admin call is refused");
    let url = format!("{e}/_local/credentials");
    let (status, _) = signed(
        ATTACKER,
        "livestream-local",
        "PUT",
        &url,
        takeover.to_string().as_bytes(),
        &[],
    )
    .await;
    assert_eq!(status, 403, "a key that is no administrator is refused");
    assert_eq!(
        cloud.get("/_local/calls").await.0,
        200,
        "the administrator still holds the admin API"
    );

    // 5. Block Public Access with only unknown elements is malformed, and the settings stay on.
    let unknown = br#"<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Foo>true</Foo></PublicAccessBlockConfiguration>"#;
    let url = format!("{e}/private-bucket?publicAccessBlock=");
    let (status, body) = signed(("local", "local"), "s3", "PUT", &url, unknown, &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("MalformedXML"), "{body}");
    assert!(blocks_public_policy(s3, "private-bucket").await, "the settings stay on");

    // 6. Client mistakes are 4xx: a body that is not what was signed, an over-long key.
    let wrong_hash = format!("x-amz-content-sha256: {}", hex(&Sha256::digest(b"something else")));
    let url = format!("{e}/attacker-bucket/mismatch");
    let (status, body) = signed(ATTACKER, "s3", "PUT", &url, b"this body", &["-H", &wrong_hash]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("XAmzContentSHA256Mismatch"), "{body}");
    let url = format!("{e}/attacker-bucket/{}", "k".repeat(1025));
    let (status, body) = signed(ATTACKER, "s3", "PUT", &url, b"long", &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("KeyTooLongError"), "{body}");

    // 7. Empty connects to the RTMP input do not spin; tricklers to RTMP and HTTP are closed.
    let rtmp = channel
        .ingest
        .trim_start_matches("rtmp://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let api = e.trim_start_matches("http://").to_owned();
    for _ in 0..3 {
        drop(TcpStream::connect(&rtmp).await.unwrap());
    }
    let ticks = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hz = 100.0; // USER_HZ on Linux
    let cpu = (cpu_ticks(pid) - ticks) as f64 / hz / 3.0;
    assert!(
        cpu < 0.6,
        "livestream-local used {:.0} % of a core after three empty connects",
        cpu * 100.0
    );
    // Fewer RTMP tricklers than an input's connection cap: each must be cut by the handshake
    // deadline (5 s), each HTTP trickler by the header deadline (10 s), while still sending.
    let mut tricklers = Vec::new();
    for _ in 0..10 {
        let mut peer = TcpStream::connect(&rtmp).await.unwrap();
        peer.write_all(&[3]).await.unwrap();
        tricklers.push(trickled_until_closed(peer, 0, Duration::from_secs(9)));
    }
    for n in 0..20 {
        let mut peer = TcpStream::connect(&api).await.unwrap();
        peer.write_all(format!("GET /healthz HTTP/1.1\r\nX-{n}: ").as_bytes())
            .await
            .unwrap();
        tricklers.push(trickled_until_closed(peer, b'a', Duration::from_secs(14)));
    }
    let closed = futures::future::join_all(tricklers).await;
    let open: Vec<usize> = (0..closed.len()).filter(|&n| !closed[n]).collect();
    assert!(open.is_empty(), "tricklers still open (0-9 RTMP, 10-29 HTTP): {open:?}");

    // Through all of it the channel kept producing segments, and the server stayed small.
    let last = eventually(
        "the channel to go on producing segments",
        Duration::from_secs(20),
        || async { media_sequence(&channel.playback).await.filter(|n| *n >= first + 5) },
    )
    .await;
    assert!(last >= first + 5);
    assert!(
        publisher.try_wait().unwrap().is_none(),
        "the legitimate publisher is still on air"
    );
    let rss = rss_mib(pid);
    assert!(rss < 256, "livestream-local holds {rss} MiB");
    let seconds = (cpu_ticks(pid) - before) as f64 / 100.0;
    eprintln!("under attack: segments {first} → {last}, {rss} MiB resident, {seconds:.1} s of CPU");
    publisher.kill().await.unwrap();
}
