#!/usr/bin/env python3
"""Media benchmark of livestream-local: how fast a RUNNING channel turns RTMP into playable HLS.

Per x264 preset (one livestream-local process each, LIVESTREAM_LOCAL_X264_PRESET):
  1. time to first playable segment: a realtime 1080p30 publisher starts; we poll the MediaPackage
     endpoint until the master, the first media playlist and its first segment all answer 200;
  2. transcode speed factor: a 20 s 1080p30 FLV is pushed as fast as the pipeline takes it
     (no -re); media seconds in the ladder's output / wall seconds. > 1 is faster than real time.

A benchmark, not a test: bounded (--runs per case), 127.0.0.1 only, and it stops every process it
started, by process id, on exit, errors and Ctrl-C. Run it through hack/bench-media.sh.
Only the standard library and botocore (shipped with the AWS CLI) are used.
"""

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import botocore.session
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/MediaLiveAccessRole"
STREAM_NAME = "live/bench"
PACKAGE_CHANNEL = "bench"
ENDPOINT = "bench-hls"
SOURCE_SECONDS = 20
# Generous bounds: a failure to produce media must end a run, not hang the benchmark.
FIRST_SEGMENT_TIMEOUT = 60.0
SPEED_TIMEOUT = 120.0
STATE_TIMEOUT = 30.0

# The publisher: a moving 1080p30 pattern with a tone, as an x264 ultrafast encoder sends it.
PUBLISH_ENCODE = [
    "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
    "-pix_fmt", "yuv420p", "-c:a", "aac",
]  # fmt: skip


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class RunFailed(Exception):
    """One measurement did not complete in time; the benchmark goes on and exits non-zero."""


# --- processes: everything we start is tracked by pid and stopped in `stop_all` ---------------

_children = []  # (Popen, what)


def spawn(args, what, **kw):
    # Own session: a terminal Ctrl-C reaches only this script, which then stops the children in
    # order (channel's ffmpeg via the server, then the server) instead of racing them.
    proc = subprocess.Popen(args, start_new_session=True, **kw)
    _children.append((proc, what))
    return proc


def stop(proc, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
    _children[:] = [c for c in _children if c[0] is not proc]


def stop_all():
    # Newest first: publishers before the server they publish to.
    for proc, what in reversed(list(_children)):
        if isinstance(what, Local):
            what.close()
        else:
            stop(proc)


def child_pids(parent, needle):
    """Pids of `parent`'s children whose command line contains `needle` (from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and needle in cmdline:
            pids.append(int(entry))
    return pids


# --- HTTP against the local endpoint ---------------------------------------------------------


def http_get(url, timeout=5.0):
    """(status, body bytes); (0, b"") when the server cannot be reached."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", u.path + (f"?{u.query}" if u.query else ""))
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


def uris(playlist):
    return [line.strip() for line in playlist.decode(errors="replace").splitlines()
            if line.strip() and not line.startswith("#")]


# --- one livestream-local process with a channel ready to run ---------------------------------


class Local:
    def __init__(self, binary, preset, workdir):
        self.preset = preset
        self.data_dir = workdir / f"data-{preset}"
        self.log_path = workdir / f"livestream-local-{preset}.log"
        env = dict(os.environ, LIVESTREAM_LOCAL_X264_PRESET=preset, RUST_LOG="info")
        # Short transition delays, as the integration tests use: we time media, not state machines.
        delays = ["--channel-create-ms", "300", "--channel-start-ms", "500",
                  "--channel-stop-ms", "300", "--channel-update-ms", "200",
                  "--channel-delete-ms", "300", "--input-create-ms", "200",
                  "--input-delete-ms", "200"]  # fmt: skip
        with open(self.log_path, "wb") as log_file:
            self.proc = spawn(
                [str(binary), "--listen", "127.0.0.1:0", "--rtmp-port", "0",
                 "--data-dir", str(self.data_dir), *delays],
                self, env=env, stdout=subprocess.PIPE, stderr=log_file,
            )  # fmt: skip
        self.url = self._wait_listening()
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        session = botocore.session.get_session()
        client = lambda service: session.create_client(  # noqa: E731
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        self.ml, self.mp = client("medialive"), client("mediapackage")

    def _wait_listening(self):
        deadline = time.monotonic() + 20
        prefix = b"livestream-local listening on "
        # readline blocks, so a watchdog kills a server that neither listens nor exits.
        timer = threading.Timer(20, lambda: self.proc.poll() is None and self.proc.kill())
        timer.start()
        try:
            for line in self.proc.stdout:
                if line.startswith(prefix):
                    return line[len(prefix):].decode().strip()
        finally:
            timer.cancel()
        why = "timed out" if time.monotonic() >= deadline else "exited"
        raise RuntimeError(f"livestream-local {why} before listening; see {self.log_path}")

    def close(self):
        """SIGTERM (the server stops its channels' ffmpeg), then any ffmpeg child it left."""
        if self.proc.poll() is None:
            leftovers = child_pids(self.proc.pid, "ffmpeg")
            stop(self.proc, grace=15)
            for pid in leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        else:
            stop(self.proc)

    def transcoders(self):
        return child_pids(self.proc.pid, str(self.data_dir))

    def metric(self, name):
        status, body = http_get(f"{self.url}/metrics")
        m = re.search(rf"^{name} (\d+)", body.decode(), re.M) if status == 200 else None
        return int(m.group(1)) if m else None

    # --- resources ---

    def setup(self):
        ml = self.ml
        sg = ml.create_input_security_group(WhitelistRules=[{"Cidr": "127.0.0.0/8"}])
        inp = ml.create_input(
            Name="bench-rtmp", Type="RTMP_PUSH",
            InputSecurityGroups=[sg["SecurityGroup"]["Id"]],
            Destinations=[{"StreamName": STREAM_NAME}],
        )["Input"]  # fmt: skip
        self.ingest = inp["Destinations"][0]["Url"]
        self._wait(lambda: ml.describe_input(InputId=inp["Id"])["State"], "DETACHED", "input")
        self.playback = self.create_package()
        channel = ml.create_channel(**channel_request(inp["Id"]))["Channel"]
        self.channel_id = channel["Id"]
        self._wait(self._state, "IDLE", "channel")

    def create_package(self):
        """MediaPackage channel + HLS endpoint (5 s segments, 60 s window); returns the URL."""
        self.mp.create_channel(Id=PACKAGE_CHANNEL)
        return self.mp.create_origin_endpoint(
            ChannelId=PACKAGE_CHANNEL, Id=ENDPOINT,
            HlsPackage={"SegmentDurationSeconds": 5, "PlaylistWindowSeconds": 60},
        )["Url"]  # fmt: skip

    def fresh_package(self):
        # Deleting the MediaPackage channel deletes its media, so the next run's "first segment"
        # cannot be the previous run's tail (which the origin lists once a new run begins).
        self.mp.delete_origin_endpoint(Id=ENDPOINT)
        self.mp.delete_channel(Id=PACKAGE_CHANNEL)
        assert self.create_package() == self.playback

    def _state(self):
        return self.ml.describe_channel(ChannelId=self.channel_id)["State"]

    def _wait(self, get, want, what):
        deadline = time.monotonic() + STATE_TIMEOUT
        while (now := get()) != want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} is {now}, not {want}, after {STATE_TIMEOUT:.0f} s")
            time.sleep(0.05)

    def start_channel(self):
        self.fresh_package()
        self.ml.start_channel(ChannelId=self.channel_id)
        self._wait(self._state, "RUNNING", "channel")

    def stop_channel(self):
        self.ml.stop_channel(ChannelId=self.channel_id)
        self._wait(self._state, "IDLE", "channel")
        # The ladder's ffmpeg may still be flushing: the next run must not share the CPU with it.
        deadline = time.monotonic() + 15
        while self.transcoders():
            if time.monotonic() > deadline:
                raise RuntimeError("the channel's ffmpeg is still running 15 s after STOP")
            time.sleep(0.05)


def video(name, width, height, bitrate):
    """A rendition of the project's default ladder (src/desired/medialive.rs), GOP 1 s."""
    return {
        "Name": f"video_{name}", "Width": width, "Height": height,
        "CodecSettings": {"H264Settings": {
            "Bitrate": bitrate, "BufSize": 2 * bitrate, "RateControlMode": "CBR",
            "FramerateControl": "SPECIFIED", "FramerateNumerator": 30, "FramerateDenominator": 1,
            # 5 s segments (odd) → 1 s GOP, as the operator derives it.
            "GopSize": 1.0, "GopSizeUnits": "SECONDS",
            "ParControl": "SPECIFIED", "ParNumerator": 1, "ParDenominator": 1,
            "Profile": "HIGH", "Level": "H264_LEVEL_AUTO", "ScanType": "PROGRESSIVE",
        }},
    }  # fmt: skip


def channel_request(input_id):
    """CreateChannel, shaped like tests/fixtures/aws-cli/create-channel.json, default ladder."""
    ladder = [("1080p", 1920, 1080, 5_000_000), ("720p", 1280, 720, 3_000_000)]
    return {
        "Name": "bench",
        "ChannelClass": "SINGLE_PIPELINE",
        "RoleArn": ROLE,
        "InputSpecification": {"Codec": "AVC", "MaximumBitrate": "MAX_20_MBPS", "Resolution": "HD"},
        "InputAttachments": [{
            "InputId": input_id, "InputAttachmentName": "bench-rtmp",
            "InputSettings": {"SourceEndBehavior": "CONTINUE",
                              "AudioSelectors": [{"Name": "default"}]},
        }],
        "Destinations": [{"Id": "mediapackage",
                          "MediaPackageSettings": [{"ChannelId": PACKAGE_CHANNEL}]}],
        "EncoderSettings": {
            "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
            "VideoDescriptions": [video(*r) for r in ladder],
            "AudioDescriptions": [{
                "Name": "audio_aac", "AudioSelectorName": "default",
                "CodecSettings": {"AacSettings": {
                    "Bitrate": 192000.0, "SampleRate": 48000.0, "CodingMode": "CODING_MODE_2_0",
                    "Profile": "LC", "RateControlMode": "CBR",
                }},
            }],
            "OutputGroups": [{
                "Name": "hls",
                "OutputGroupSettings": {"MediaPackageGroupSettings": {
                    "Destination": {"DestinationRefId": "mediapackage"}}},
                "Outputs": [{
                    "OutputName": name, "VideoDescriptionName": f"video_{name}",
                    "AudioDescriptionNames": ["audio_aac"],
                    "OutputSettings": {"MediaPackageOutputSettings": {}},
                } for name, *_ in ladder],
            }],
        },
        "Tags": {"livestream.io/managed-by": "bench-media"},
    }  # fmt: skip


# --- measurements ----------------------------------------------------------------------------


def publish(local, args, log_path):
    with open(log_path, "ab") as err:
        return spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args,
                      "-f", "flv", local.ingest], "publisher",
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


class PublishWatch(threading.Thread):
    """Polls /metrics every 20 ms; `accepted` is the monotonic time the publish counter moved."""

    def __init__(self, local):
        super().__init__(daemon=True)
        self.local, self.accepted, self.done = local, None, threading.Event()
        self.baseline = local.metric("livestream_local_media_publishes") or 0

    def run(self):
        while not self.done.is_set():
            n = self.local.metric("livestream_local_media_publishes")
            if n is not None and n > self.baseline:
                self.accepted = time.monotonic()
                return
            time.sleep(0.02)


def playable_segment(master_url):
    """True once master, first media playlist and its first segment all answer 200."""
    status, master = http_get(master_url)
    if status != 200 or not uris(master):
        return False
    media_url = urllib.parse.urljoin(master_url, uris(master)[0])
    status, media = http_get(media_url)
    if status != 200 or not uris(media):
        return False
    status, segment = http_get(urllib.parse.urljoin(media_url, uris(media)[0]))
    return status == 200 and segment[:1] == b"\x47"  # an MPEG-TS sync byte, not an error page


def first_segment(local, workdir):
    """(seconds from publish accepted, seconds from ffmpeg launch) to a playable segment."""
    local.start_channel()
    watch = PublishWatch(local)
    launched = time.monotonic()
    publisher = publish(local, ["-re", *PUBLISH_ENCODE], workdir / "publisher.log")
    watch.start()
    try:
        while not playable_segment(local.playback):
            if time.monotonic() - launched > FIRST_SEGMENT_TIMEOUT:
                raise RunFailed(f"no playable segment within {FIRST_SEGMENT_TIMEOUT:.0f} s")
            if publisher.poll() is not None:
                raise RunFailed(f"the publisher exited ({publisher.returncode})")
            time.sleep(0.05)
        done = time.monotonic()
    finally:
        watch.done.set()
        stop(publisher)
        local.stop_channel()
    from_accept = done - watch.accepted if watch.accepted else None
    return from_accept, done - launched


def make_source(path):
    """The 20 s 1080p30 FLV the speed case pushes; cached across invocations."""
    if path.exists():
        return
    log(f"generating {path} (once)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.flv")
    gen = spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                 *PUBLISH_ENCODE, "-t", str(SOURCE_SECONDS), "-f", "flv", str(tmp)], "generator")
    try:
        if gen.wait() != 0:
            raise RuntimeError("ffmpeg could not generate the source file")
        tmp.rename(path)  # atomic: a half-written file is never taken for the cache
    finally:
        stop(gen)
        tmp.unlink(missing_ok=True)


def produced(local):
    """(media seconds in the channel's on-disk HLS output, least of all renditions; whether every
    rendition's playlist has ENDLIST, i.e. the ladder's ffmpeg finished)."""
    channel_dir = local.data_dir / "mediapackage" / PACKAGE_CHANNEL
    try:
        names = re.findall(r'"name":\s*"([^"]+)"', (channel_dir / "ladder.json").read_text())
    except OSError:
        return 0.0, False
    totals, ended = [], bool(names)
    for name in names:
        # A fresh MediaPackage channel: this push is run 0.
        try:
            text = (channel_dir / name / "run-0.m3u8").read_text()
        except OSError:
            return 0.0, False
        totals.append(sum(float(d) for d in re.findall(r"^#EXTINF:([\d.]+)", text, re.M)))
        ended &= "#EXT-X-ENDLIST" in text
    return min(totals, default=0.0), ended


def speed_factor(local, source, workdir, gop=1.0):
    """Media seconds produced / wall seconds, publisher launch → ≥ source − 1 GOP segmented."""
    local.start_channel()
    launched = time.monotonic()
    publisher = publish(local, ["-i", str(source), "-c", "copy"], workdir / "publisher.log")
    try:
        while True:
            media, ended = produced(local)
            if media >= SOURCE_SECONDS - gop - 1e-6:
                break
            if ended:
                # A publisher far ahead of real time that disconnects at once can lose its last
                # megabytes (still in socket buffers when the connection resets). The rate up to
                # the end of what arrived is still the ladder's throughput: keep it, say so.
                log(f"note: the run ended with {media:.2f} s of {SOURCE_SECONDS} s (tail lost)")
                break
            if time.monotonic() - launched > SPEED_TIMEOUT:
                raise RunFailed(f"only {media:.1f} s of media after {SPEED_TIMEOUT:.0f} s")
            time.sleep(0.05)
        wall = time.monotonic() - launched
    finally:
        stop(publisher)
        local.stop_channel()
    return media / wall


# --- report ----------------------------------------------------------------------------------


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown")
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return os.cpu_count(), model, ffmpeg.splitlines()[0] if ffmpeg else "ffmpeg: unknown"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, spec):
    return "–" if value is None else format(value, spec)


def ratio(value, base):
    return None if value is None or not base else value / base


def report(results, runs, load_start):
    nproc, model, ffmpeg = machine()
    base = results.get("ultrafast", {})
    base_ttfs, base_speed = median(base.get("ttfs", [])), median(base.get("speed", []))
    print("\n## livestream-local media benchmark\n")
    print(f"- machine: nproc {nproc}, {model}; load average at start {load_start}")
    print(f"- {ffmpeg}")
    print("- ladder: 1080p30 5 Mb/s + 720p30 3 Mb/s H.264, GOP 1 s, AAC 192 kb/s 48 kHz; "
          f"endpoint 5 s segments; medians of {runs} run(s) per case\n")
    print("| case | runs | first segment (s) | vs ultrafast | speed factor (×) | vs ultrafast |")
    print("|---|---|---|---|---|---|")
    for preset, r in results.items():
        ttfs, speed = median(r["ttfs"]), median(r["speed"])
        done = min(sum(v is not None for v in r[k]) for k in ("ttfs", "speed"))
        runs_done = str(done) if done == runs else f"{done} of {runs} ok"
        cells = [preset, runs_done, fmt(ttfs, ".2f"), fmt(ratio(ttfs, base_ttfs), ".2f"),
                 fmt(speed, ".2f"), fmt(ratio(speed, base_speed), ".2f")]
        print(f"| {' | '.join(cells)} |")
    from_launch = ", ".join(
        f"{p} {fmt(median(r['ttfs_launch']), '.2f')} s" for p, r in results.items())
    print(f"""
- first segment: from the server accepting the RTMP publish (its /metrics publish counter,
  polled every 20 ms) to a 200 on the master, the first media playlist and its first 5 s
  segment (polled every 50 ms), so it includes the 5 s of realtime media in that segment.
  Measured from the publisher ffmpeg's launch instead (RTMP connect, encoder start): {from_launch}.
- speed factor: the {SOURCE_SECONDS} s source pushed without -re; media seconds on disk (least
  rendition) / wall seconds from the publisher's launch until ≥ source − 1 GOP is segmented.""")
    for p, r in results.items():
        raw = lambda k: ", ".join(fmt(v, ".2f") for v in r[k])  # noqa: E731
        print(f"- raw {p}: first segment [{raw('ttfs')}] s; speed [{raw('speed')}] ×")


def interrupted(*_):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per case (default 3)")
    parser.add_argument("--cases", default="ultrafast,superfast",
                        help="x264 presets, comma-separated (default ultrafast,superfast)")
    parser.add_argument("--binary", type=Path, required=True, help="the livestream-local binary")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "livestream-bench-media",
                        help="where the generated source file is kept between invocations")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    # Ctrl-C and SIGTERM (e.g. a CI timeout) unwind through the cleanup below, even when the
    # caller started us with SIGINT ignored (as shells do for background jobs).
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="livestream-bench-media."))
    results, failed, ok = {}, False, False
    load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    try:
        source = args.cache_dir / f"testsrc2-{SOURCE_SECONDS}s-1080p30.flv"
        make_source(source)
        for preset in [c.strip() for c in args.cases.split(",") if c.strip()]:
            log(f"case {preset}: starting livestream-local")
            local = Local(args.binary, preset, workdir)
            local.setup()
            r = results[preset] = {"ttfs": [], "ttfs_launch": [], "speed": []}
            for i in range(1, args.runs + 1):
                try:
                    accept, launch = first_segment(local, workdir)
                    r["ttfs"].append(accept if accept is not None else launch)
                    r["ttfs_launch"].append(launch)
                    log(f"{preset} run {i}: first segment {fmt(accept, '.2f')} s after the "
                        f"publish was accepted ({launch:.2f} s after ffmpeg launched)")
                except RunFailed as e:
                    failed = True
                    r["ttfs"].append(None)
                    log(f"{preset} run {i}: FAILED first segment: {e}")
                try:
                    r["speed"].append(speed_factor(local, source, workdir))
                    log(f"{preset} run {i}: speed factor {r['speed'][-1]:.2f}×")
                except RunFailed as e:
                    failed = True
                    r["speed"].append(None)
                    log(f"{preset} run {i}: FAILED speed: {e}")
            local.close()
        report(results, args.runs, load_start)
        ok = not failed
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        stop_all()
        # Keep only the logs, and only when something went wrong: the media is tens of MB.
        for path in workdir.iterdir() if not ok else [workdir]:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        if not ok:
            log(f"logs kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
