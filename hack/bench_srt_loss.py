#!/usr/bin/env python3
"""Contribution under packet loss: RTMP push beside an SRT listener input of livestream-local.

Four cases per run, one after another in one livestream-local: RTMP clean, RTMP with loss, SRT
clean, SRT with loss. Each case gets a fresh input, MediaPackage channel (HLS endpoint, 2 s
segments) and MediaLive channel (one 720p rendition, 1 s GOP), RUNNING, and one ffmpeg encoder
pushing a 720p30 test pattern with the capture time burnt in (as hack/bench-latency.sh does: 24
bits of the wall clock in ms as white/black blocks, a row of their complements below): FLV over
RTMP, or MPEG-TS over SRT (caller, AES-256, the passphrase a Secrets Manager secret, the input's
minimumLatency the SRT latency). "With loss": delay and random loss on the contribution leg only:
iptables queues the input port's packets (TCP for RTMP, UDP for SRT; destination port one way,
source port the other) to NFQUEUE, where this script drops or delays each (tc netem is not built
into this kernel); the API, the HLS origin and the channel's own ffmpeg do not cross it.

Over a fixed window after the first segment is listed: segments listed (against window / 2 s),
stalls (gaps between consecutive segments' first listing, and from the last one to the end of the
window, longer than 1.5 segments), and edge latency: when a segment is first listed minus the
capture time burnt into its first frame, i.e. glass-to-glass for a player that starts each segment
the moment it is listed (hls.js's default hold-back adds three target durations on top).

A benchmark, not a test: bounded (--runs, --window, 60 s to a first segment), it binds only
127.0.0.1, and every process it starts is stopped by pid on exit, errors and Ctrl-C. It changes
iptables rules, so it runs only inside the network namespace hack/bench-srt-loss.sh creates.
"""

import argparse
import collections
import contextlib
import os
import random
import select
import socket
import struct
import threading
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_failover as failover  # noqa: E402  (one 720p rendition into a MediaPackage channel)
import bench_media as media  # noqa: E402  (the same process handling and livestream-local setup)

SEGMENT_SECONDS = 2
FIRST_SEGMENT_TIMEOUT = 60.0
LISTENER_TIMEOUT = 15.0
PASSPHRASE = "bench-srt-loss-passphrase"
WIDTH, HEIGHT = 1280, 720
BITS, BLOCK, X0, ROW1, ROW2, STRIP = 24, 40, 16, 20, 60, 80
WRAP = 2**BITS
CASES = [("rtmp", False), ("rtmp", True), ("srt", False), ("srt", True)]


def burn_filter():
    """Stamps each frame with its ideal capture time (the encoder's start + the frame's pts, in
    wall-clock ms, as a camera would: an encoder stuck behind a slow connection does not move it)
    and draws its 24 low bits as blocks, complements below; pts back to N/30 afterwards."""
    parts = ["settb=1/1000", "setpts='floor(RTCSTART/1000)+PTS'",
             f"drawbox=x=0:y=0:w={WIDTH}:h={STRIP}:color=black:t=fill"]
    for i in range(BITS):
        bit = f"mod(floor(floor(t*1000+0.5)/{2**i}),2)"
        x = X0 + i * BLOCK
        parts.append(f"drawbox=x={x}:y={ROW1 - 16}:w={BLOCK}:h=32:color=white:t=fill:enable='{bit}'")
        parts.append(f"drawbox=x={x}:y={ROW2 - 16}:w={BLOCK}:h=32:color=white:t=fill:enable='1-{bit}'")
    return ",".join([*parts, "settb=1/30", "setpts=N"])


def capture_ms(segment_url, listed_wall_ms):
    """Wall-clock ms the segment's first frame was captured at; None if its blocks do not read."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", segment_url, "-frames:v", "1",
         "-vf", f"scale={WIDTH}:{HEIGHT},crop={WIDTH}:{STRIP}:0:0,format=gray",
         "-f", "rawvideo", "-"],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    px = out.stdout
    if len(px) < WIDTH * STRIP:
        return None

    def lum(x, y):
        return sum(px[(y + dy) * WIDTH + x + dx] for dy in range(-3, 4) for dx in range(-3, 4)) / 49

    code = 0
    for i in range(BITS):
        x = X0 + i * BLOCK + BLOCK // 2
        a, b = lum(x, ROW1) > 128, lum(x, ROW2) > 128
        if a == b:
            return None
        code |= a << i
    # The newest wall-clock ms at or before `listed_wall_ms` whose low 24 bits are `code`.
    return listed_wall_ms - ((listed_wall_ms % WRAP - code) % WRAP)


# --- the contribution leg's impairment (inside the namespace) ----------------------------------
# This kernel has no netem (nor prio): CONFIG_NET_SCH_NETEM is not set, and there are no modules.
# So iptables queues the input port's packets (OUTPUT: each loopback packet passes it once) to
# NFQUEUE (nftables' own queue expression is not built either), and a thread here gives each one
# its verdict: dropped with probability --loss, else accepted --delay ms later. nfnetlink_queue is
# spoken directly (no library): bind the queue, copy metadata only, read packet ids, send verdicts.

QUEUE = 7
NETLINK_NETFILTER, NFNL_SUBSYS_QUEUE = 12, 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2, 1, 2
NFQNL_CFG_CMD_BIND, NFQNL_COPY_META = 1, 1
NF_DROP, NF_ACCEPT = 0, 1
NLM_F_REQUEST, NLMSG_ERROR = 1, 2


IPTABLES = shutil.which("iptables-legacy") or "iptables"


def iptables(*args, check=True):
    subprocess.run([IPTABLES, "-w", *args], capture_output=True, check=check)


class Impairment(threading.Thread):
    """Delay and random loss for the packets iptables queues to QUEUE, until `stop()`."""

    def __init__(self, loss, delay_ms):
        super().__init__(daemon=True)
        self.loss, self.delay = loss / 100, delay_ms / 1000
        self.queued = self.dropped = 0
        self.done = threading.Event()
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))
        self.seq = 0
        cmd = struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET)
        self._send(NFQNL_MSG_CONFIG, self._attr(NFQA_CFG_CMD, cmd))
        self._send(NFQNL_MSG_CONFIG, self._attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)))
        self.rng = random.Random(os.getpid())

    @staticmethod
    def _attr(kind, payload):
        attr = struct.pack("=HH", 4 + len(payload), kind) + payload
        return attr + b"\0" * (-len(attr) % 4)

    def _send(self, msg, attrs):
        self.seq += 1
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(QUEUE)) + attrs
        header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg, NLM_F_REQUEST, self.seq, 0)
        self.sock.send(header + body)

    def _verdict(self, packet_id, verdict):
        self._send(NFQNL_MSG_VERDICT, self._attr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id)))

    def _packets(self, data):
        """Packet ids in a batch of netlink messages."""
        offset = 0
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if length < 16:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                at, end = offset + 20, offset + length  # nlmsghdr + nfgenmsg
                while at + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, at)
                    if alen < 4:
                        break
                    if atype & 0x3FFF == NFQA_PACKET_HDR:
                        yield struct.unpack_from("!I", data, at + 4)[0]
                    at += (alen + 3) & ~3
            offset += (length + 3) & ~3

    def run(self):
        pending = collections.deque()  # (due monotonic, packet id), in arrival order
        while not self.done.is_set():
            timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else 0.2
            if select.select([self.sock], [], [], timeout)[0]:
                try:
                    data = self.sock.recv(1 << 20)
                except BlockingIOError:
                    data = b""
                except OSError:  # ENOBUFS: the kernel dropped messages; the packets it holds wait
                    data = b""
                now = time.monotonic()
                for packet_id in self._packets(data):
                    self.queued += 1
                    if self.rng.random() < self.loss:
                        self.dropped += 1
                        self._verdict(packet_id, NF_DROP)
                    else:
                        pending.append((now + self.delay, packet_id))
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                self._verdict(pending.popleft()[1], NF_ACCEPT)
        for _, packet_id in pending:
            self._verdict(packet_id, NF_ACCEPT)

    def stop(self):
        self.done.set()
        self.join(5)
        self.sock.close()


def impair_port(port, protocol):
    """The port's packets both ways (to it: the media; from it: ACKs, SRT ACK/NAK) to the queue;
    `--queue-bypass`: with no reader bound, they pass untouched."""
    for direction in ("--dport", "--sport"):
        iptables("-A", "OUTPUT", "-p", protocol, direction, str(port),
                 "-j", "NFQUEUE", "--queue-num", str(QUEUE), "--queue-bypass")  # fmt: skip


def impair_clear():
    iptables("-F", "OUTPUT", check=False)


# --- a case: input, channel, encoder, the endpoint watched -------------------------------------


def udp_bound(port):
    """True once something listens on UDP 127.0.0.1:port (this namespace's /proc/net/udp)."""
    want = f"0100007F:{port:04X}"
    return any(line.split()[1] == want for line in Path("/proc/net/udp").read_text().splitlines()[1:])


def encoder(protocol, url, seconds, log_path):
    args = [
        "-re", "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-vf", burn_filter(),
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
        "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "3000k", "-maxrate", "3000k",
        "-bufsize", "3000k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
        "-f", "flv" if protocol == "rtmp" else "mpegts", url,
    ]  # fmt: skip
    with open(log_path, "ab") as err:
        return media.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args],
                           "encoder", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


class Case:
    """One protocol's input, MediaPackage endpoint and RUNNING channel in `local`."""

    def __init__(self, local, name, protocol, latency_ms):
        self.local, self.protocol = local, protocol
        self.name, self.channel_id, self.input_id = name, None, None
        try:
            self._create(latency_ms)
        except BaseException:
            with contextlib.suppress(Exception):
                self.close()
            raise

    def _create(self, latency_ms):
        local, name, protocol = self.local, self.name, self.protocol
        ml, mp = local.ml, local.mp
        sg = local.security_group
        if protocol == "rtmp":
            created = ml.create_input(Name=name, Type="RTMP_PUSH", InputSecurityGroups=[sg],
                                      Destinations=[{"StreamName": "live/bench"}])["Input"]
            self.url = created["Destinations"][0]["Url"]
        else:
            sm = local.sm
            arn = sm.create_secret(Name=f"{name}-passphrase", SecretString=PASSPHRASE)["ARN"]
            created = ml.create_input(
                Name=name, Type="SRT_LISTENER", InputSecurityGroups=[sg],
                SrtSettings={"SrtListenerSettings": {
                    "Decryption": {"Algorithm": "AES256", "PassphraseSecretArn": arn},
                    "MinimumLatency": latency_ms}},
            )["Input"]  # fmt: skip
            # ffmpeg's libsrt takes latency in microseconds; the handshake keeps the larger side's.
            query = urllib.parse.urlencode({"mode": "caller", "passphrase": PASSPHRASE, "pbkeylen": 32,
                                            "latency": latency_ms * 1000})
            self.url = f"{created['Destinations'][0]['Url']}?{query}"
        self.port, self.input_id = urllib.parse.urlsplit(self.url).port, created["Id"]
        local._wait(lambda: ml.describe_input(InputId=created["Id"])["State"], "DETACHED", "input")
        mp.create_channel(Id=name)
        self.playback = mp.create_origin_endpoint(
            ChannelId=name, Id=f"{name}-hls",
            HlsPackage={"SegmentDurationSeconds": SEGMENT_SECONDS, "PlaylistWindowSeconds": 300},
        )["Url"]  # fmt: skip
        request = failover.ladder_request(name, [failover.attachment(created["Id"], name)], "SINGLE_PIPELINE")
        self.channel_id = ml.create_channel(**request)["Channel"]["Id"]
        state = lambda: ml.describe_channel(ChannelId=self.channel_id)["State"]  # noqa: E731
        local._wait(state, "IDLE", "channel")
        ml.start_channel(ChannelId=self.channel_id)
        local._wait(state, "RUNNING", "channel")
        if protocol == "srt":
            # The channel arms its listener within its one-second alert refresh.
            deadline = time.monotonic() + LISTENER_TIMEOUT
            while not udp_bound(self.port):
                if time.monotonic() > deadline:
                    raise media.RunFailed(f"no SRT listener on port {self.port} after {LISTENER_TIMEOUT:.0f} s")
                time.sleep(0.1)

    def close(self):
        """Stopped and deleted, input and MediaPackage channel too (the account's quotas are
        AWS's: a few channels, inputs and security groups), so runs can go on."""
        ml, mp = self.local.ml, self.local.mp
        if self.channel_id:
            with contextlib.suppress(ClientError):  # IDLE already when a start failed
                ml.stop_channel(ChannelId=self.channel_id)
            self.local._wait(lambda: ml.describe_channel(ChannelId=self.channel_id)["State"], "IDLE", "channel")
            # The next case must not share the CPU with this channel's flushing ffmpeg.
            deadline = time.monotonic() + 15
            while media.child_pids(self.local.proc.pid, "ffmpeg") and time.monotonic() < deadline:
                time.sleep(0.1)
            ml.delete_channel(ChannelId=self.channel_id)
            gone(lambda: ml.describe_channel(ChannelId=self.channel_id)["State"])
        if self.input_id:
            gone(lambda: ml.describe_input(InputId=self.input_id)["State"], want="DETACHED")
            ml.delete_input(InputId=self.input_id)
            gone(lambda: ml.describe_input(InputId=self.input_id)["State"])
        with contextlib.suppress(ClientError):
            mp.delete_origin_endpoint(Id=f"{self.name}-hls")
            mp.delete_channel(Id=self.name)


def gone(state, want="DELETED"):
    """Waits (bounded) until `state()` is `want`, or the resource is not found any more."""
    deadline = time.monotonic() + media.STATE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if state() == want:
                return
        except ClientError:
            return
        time.sleep(0.1)
    raise RuntimeError(f"still not {want} after {media.STATE_TIMEOUT:.0f} s")


class Watch:
    """The endpoint's media playlist: when each media sequence number was first listed."""

    def __init__(self, master_url):
        self.master_url, self.media_url = master_url, None
        self.listed = {}  # sequence -> (monotonic, wall ms, segment url)

    def poll(self):
        if self.media_url is None:
            status, body = media.http_get(self.master_url)
            variants = media.uris(body) if status == 200 else []
            if not variants:
                return
            self.media_url = urllib.parse.urljoin(self.master_url, variants[0])
        status, body = media.http_get(self.media_url)
        if status != 200:
            return
        now, wall_ms = time.monotonic(), time.time_ns() // 1_000_000
        first = [ln for ln in body.decode(errors="replace").splitlines() if ln.startswith("#EXT-X-MEDIA-SEQUENCE:")]
        base = int(first[0].split(":", 1)[1]) if first else 0
        for n, uri in enumerate(media.uris(body)):
            self.listed.setdefault(base + n, (now, wall_ms, urllib.parse.urljoin(self.media_url, uri)))


def run_case(local, workdir, name, protocol, lossy, args):
    """(segments listed in the window, stalls, longest gap s, median edge latency s, segments whose
    clock was read, (packets dropped, packets queued), encoder restarts)."""
    case = Case(local, name, protocol, args.srt_latency)
    impairment = None
    if lossy:
        impairment = Impairment(args.loss, args.delay)
        impairment.start()
        impair_port(case.port, "tcp" if protocol == "rtmp" else "udp")
    log_path = workdir / f"encoder-{name}.log"
    seconds = FIRST_SEGMENT_TIMEOUT + args.window + 10
    try:
        enc = encoder(protocol, case.url, seconds, log_path)
        launched, watch, restarts = time.monotonic(), Watch(case.playback), 0
        while not watch.listed:
            if time.monotonic() - launched > FIRST_SEGMENT_TIMEOUT:
                raise media.RunFailed(f"no segment within {FIRST_SEGMENT_TIMEOUT:.0f} s")
            watch.poll()
            time.sleep(0.1)
        first_seq = max(watch.listed)
        t0 = watch.listed[first_seq][0]
        end = t0 + args.window
        while time.monotonic() < end:
            watch.poll()
            if enc.poll() is not None and restarts < 5:
                # A publisher that gave up comes back, as an encoder configured to reconnect does.
                restarts += 1
                media.log(f"{name}: the encoder exited ({enc.returncode}); restarting it")
                enc = encoder(protocol, case.url, end - time.monotonic() + 5, log_path)
            time.sleep(0.1)
        media.stop(enc, grace=2)
        # Read the clocks now: deleting the MediaPackage channel below deletes its segments.
        window = sorted((v for q, v in watch.listed.items() if q > first_seq and v[0] <= end), key=lambda v: v[0])
        clocks = [(wall_ms, capture_ms(url, wall_ms)) for _, wall_ms, url in window]
    finally:
        impair_clear()
        if impairment:
            impairment.stop()
        for proc, what in list(media._children):
            if what == "encoder":
                media.stop(proc, grace=2)
        try:
            case.close()
        except (RuntimeError, ClientError) as e:
            media.log(f"{name}: {e}")
    arrivals = [t0] + [v[0] for v in window] + [end]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    stalls = sum(g > 1.5 * SEGMENT_SECONDS for g in gaps)
    latencies = [(wall_ms - captured) / 1000 for wall_ms, captured in clocks if captured is not None]
    latency = statistics.median(latencies) if latencies else None
    drops = (impairment.dropped, impairment.queued) if impairment else (0, 0)
    return len(window), stalls, max(gaps), latency, len(latencies), drops, restarts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loss", type=float, default=2.0, help="packet loss, %% each way (default 2)")
    parser.add_argument("--delay", type=int, default=20, help="delay, ms each way (default 20)")
    parser.add_argument("--window", type=int, default=40, help="seconds measured after the first segment")
    parser.add_argument("--srt-latency", type=int, default=1000, help="the SRT input's minimumLatency, ms")
    args = parser.parse_args()
    if args.runs < 1 or args.window < 2 * SEGMENT_SECONDS:
        parser.error("--runs ≥ 1 and --window ≥ two segments")
    signal.signal(signal.SIGTERM, media.interrupted)
    signal.signal(signal.SIGINT, media.interrupted)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines()
    if len(links) != 1 or ": lo:" not in links[0]:
        sys.exit("bench_srt_loss.py changes iptables rules: run it through hack/bench-srt-loss.sh (its own namespace)")

    results = {c: [] for c in CASES}
    failed, ok = 0, False
    workdir = Path(tempfile.mkdtemp(prefix="livestream-bench-srt-loss."))
    load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    try:
        local = media.Local(args.binary, "ultrafast", workdir)
        local.sm = media.botocore.session.get_session().create_client(
            "secretsmanager", endpoint_url=local.url, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        local.security_group = local.ml.create_input_security_group(
            WhitelistRules=[{"Cidr": "127.0.0.0/8"}])["SecurityGroup"]["Id"]
        for run in range(1, args.runs + 1):
            for protocol, lossy in CASES:
                name = f"{protocol}-{'loss' if lossy else 'clean'}-{run}"
                try:
                    r = run_case(local, workdir, name, protocol, lossy, args)
                    results[(protocol, lossy)].append(r)
                    latency = "–" if r[3] is None else f"{r[3]:.2f} s"
                    media.log(f"{name}: {r[0]} segments, {r[1]} stalls, longest gap {r[2]:.1f} s, "
                              f"edge latency {latency} ({r[4]} read), dropped {r[5][0]} of "
                              f"{r[5][1]} packets, encoder restarts {r[6]}")
                except (media.RunFailed, RuntimeError, ClientError, subprocess.SubprocessError) as e:
                    failed += 1
                    media.log(f"{name} failed: {e}")
        local.close()
        ok = not failed
    except KeyboardInterrupt:
        media.log("interrupted")
        return 1
    finally:
        media.stop_all()
        impair_clear()
        for path in workdir.iterdir() if not failed else []:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        if failed:
            media.log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    cores, model, ffmpeg = media.machine()
    expected = args.window // SEGMENT_SECONDS
    print(f"\nlivestream-local contribution under loss on {cores} cores ({model}; {ffmpeg}); "
          f"load average at start {load_start}")
    print(f"- 720p30 encoder (x264 ultrafast, 3 Mb/s, AAC 128 kb/s) → one 720p rendition, "
          f"{SEGMENT_SECONDS} s segments; window {args.window} s after the first segment; "
          f"loss case: {args.loss:g} % loss + {args.delay} ms delay each way on the input's port "
          f"(lo MTU 1500, offloads off); SRT minimumLatency {args.srt_latency} ms; "
          f"medians of {args.runs} run(s)\n")
    print("| input | path | runs | segments listed (of expected) | stalls > 1.5 segments | longest gap "
          "| edge latency (median) | packets dropped (of queued) |")
    print("|---|---|---|---|---|---|---|---|")
    for protocol, lossy in CASES:
        rs = results[(protocol, lossy)]
        label = "RTMP push (TCP)" if protocol == "rtmp" else "SRT listener (UDP, ARQ)"
        path = f"{args.loss:g} % loss, {args.delay} ms" if lossy else "clean"
        if not rs:
            print(f"| {label} | {path} | 0 of {args.runs} ok | failed | – | – | – | – |")
            continue
        med = lambda i: statistics.median(r[i] for r in rs)  # noqa: E731
        lat = [r[3] for r in rs if r[3] is not None]
        latency = f"{statistics.median(lat):.2f} s" if lat else "–"
        drops = f"{statistics.median(r[5][0] for r in rs):.0f} of {statistics.median(r[5][1] for r in rs):.0f}"
        runs = str(len(rs)) if len(rs) == args.runs else f"{len(rs)} of {args.runs} ok"
        print(f"| {label} | {path} | {runs} | {med(0):g} of {expected} | {med(1):g} | {med(2):.1f} s "
              f"| {latency} | {drops if lossy else '–'} |")
    print("\n- raw per run (segments, stalls, longest gap s, edge latency s, encoder restarts):")
    for (protocol, lossy), rs in results.items():
        raw = "; ".join(f"{r[0]}, {r[1]}, {r[2]:.1f}, {'–' if r[3] is None else f'{r[3]:.2f}'}, {r[6]}" for r in rs)
        print(f"  - {protocol} {'loss' if lossy else 'clean'}: {raw}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
