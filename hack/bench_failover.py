#!/usr/bin/env python3
"""Failover benchmark of livestream-local: how long viewers wait for the surviving source.

Three cases, side by side in one run, each a fresh livestream-local with one 720p rendition, 1 s
GOP and 2 s MediaPackage segments, and encoders that each paint their own colour:
  standard      a STANDARD channel, one encoder per pipeline; the one on air is killed;
  failover      a primary and a backup input with automatic input failover (input loss 1000 ms);
                the primary encoder is killed;
  single        today's baseline: one input, one encoder, killed and restarted at once.
For each: the gap (from the kill to the first segment of the surviving source listed in the
endpoint's playlist: what a player at the live edge can show next) and the segments lost (media
sequence numbers skipped between the last segment of the old source and the first of the new).
Then the CPU the channel's encoders use for a Single channel and a STANDARD one (both pipelines
really encode), over the same steady 20 s.

A benchmark, not a test: bounded (--runs per case), 127.0.0.1 only, and every process it starts is
stopped by pid on exit, errors and Ctrl-C. Run it through hack/bench-failover.sh.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_media as media  # noqa: E402  (the same process handling and livestream-local setup)

RED, BLUE, GREEN = 0xFF0000, 0x0000FF, 0x00FF00
SEGMENT_SECONDS = 2
LOSS_THRESHOLD_MS = 1000
CASE_TIMEOUT = 60.0
CPU_SECONDS = 20.0


def encoder(url, colour, log_path):
    """ffmpeg pushing a solid colour at 720p30 with a tone to `url`, until stopped."""
    args = [
        "-re", "-f", "lavfi", "-i", f"color=c=0x{colour:06X}:s=1280x720:r=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
    ]  # fmt: skip
    with open(log_path, "ab") as err:
        return media.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *args,
                            "-f", "flv", url], "encoder",
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


def colour_of(segment_url):
    """The first frame's colour as the nearest of red, green and blue; None if unreadable."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", segment_url, "-frames:v", "1",
         "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=10, check=False,
    )  # fmt: skip
    if len(out.stdout) < 3:
        return None
    rgb = out.stdout[:3]
    return (RED, GREEN, BLUE)[max(range(3), key=lambda i: rgb[i])]


class Playlist:
    """The endpoint's first media playlist, read as a player at the live edge would."""

    def __init__(self, master_url):
        self.master_url, self.media_url = master_url, None
        self.colours = {}  # sequence number -> colour

    def newest(self):
        """(sequence, colour) of the newest listed segment, or None."""
        if self.media_url is None:
            status, body = media.http_get(self.master_url)
            variants = media.uris(body) if status == 200 else []
            if not variants:
                return None
            self.media_url = self.master_url.rsplit("/", 1)[0] + "/" + variants[0]
        status, body = media.http_get(self.media_url)
        segments = media.uris(body) if status == 200 else []
        first = [ln for ln in body.decode(errors="replace").splitlines()
                 if ln.startswith("#EXT-X-MEDIA-SEQUENCE:")]
        if not segments or not first:
            return None
        sequence = int(first[0].split(":", 1)[1]) + len(segments) - 1
        if sequence not in self.colours:
            url = self.media_url.rsplit("/", 1)[0] + "/" + segments[-1]
            colour = colour_of(url)
            if colour is None:
                return None
            self.colours[sequence] = colour
        return sequence, self.colours[sequence]

    def wait_for(self, colours, timeout, since_sequence=None):
        """(monotonic time, sequence, colour) of the first newest segment of one of `colours`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.newest()
            if seen and seen[1] in colours and (since_sequence is None or seen[0] > since_sequence):
                return time.monotonic(), seen[0], seen[1]
            time.sleep(0.1)
        names = ", ".join(f"0x{c:06X}" for c in colours)
        raise media.RunFailed(f"{names} not on air within {timeout:.0f} s")


def ladder_request(name, attachments, channel_class):
    """CreateChannel: one 720p rendition into MediaPackage channel `name`."""
    request = media.channel_request("unused")
    request.update(Name=name, ChannelClass=channel_class, InputAttachments=attachments)
    request["Destinations"] = [{"Id": "mediapackage", "MediaPackageSettings": [{"ChannelId": name}]}]
    encoder_settings = request["EncoderSettings"]
    encoder_settings["VideoDescriptions"] = [media.video("720p", 1280, 720, 3_000_000)]
    group = encoder_settings["OutputGroups"][0]
    group["Outputs"] = [o for o in group["Outputs"] if o["OutputName"] == "720p"]
    return request


def attachment(input_id, name, failover_to=None):
    a = {"InputId": input_id, "InputAttachmentName": name,
         "InputSettings": {"SourceEndBehavior": "CONTINUE", "AudioSelectors": [{"Name": "default"}]}}
    if failover_to:
        a["AutomaticInputFailoverSettings"] = {
            "SecondaryInputId": failover_to, "InputPreference": "PRIMARY_INPUT_PREFERRED",
            "ErrorClearTimeMsec": 3000,
            "FailoverConditions": [{"FailoverConditionSettings": {
                "InputLossSettings": {"InputLossThresholdMsec": LOSS_THRESHOLD_MS}}}],
        }  # fmt: skip
    return a


class Channel:
    """A livestream-local process with one channel of `case`, RUNNING, and its ingest URLs."""

    def __init__(self, binary, workdir, case):
        # A folder per channel: no run reads another's media.
        workdir = Path(tempfile.mkdtemp(prefix=f"{case}-", dir=workdir))
        self.local = media.Local(binary, "ultrafast", workdir)
        ml, mp = self.local.ml, self.local.mp
        sg = ml.create_input_security_group(WhitelistRules=[{"Cidr": "127.0.0.0/8"}])["SecurityGroup"]["Id"]

        def new_input(name, destinations):
            created = ml.create_input(Name=name, Type="RTMP_PUSH", InputSecurityGroups=[sg],
                                      Destinations=[{"StreamName": "live/bench"}] * destinations)["Input"]
            self.local._wait(lambda: ml.describe_input(InputId=created["Id"])["State"], "DETACHED", "input")
            return created["Id"], [d["Url"] for d in created["Destinations"]]

        mp.create_channel(Id=case)
        self.playback = mp.create_origin_endpoint(
            ChannelId=case, Id=f"{case}-hls",
            HlsPackage={"SegmentDurationSeconds": SEGMENT_SECONDS, "PlaylistWindowSeconds": 20},
        )["Url"]  # fmt: skip
        if case == "standard":
            primary, self.urls = new_input("standard-rtmp", 2)
            request = ladder_request(case, [attachment(primary, "standard-rtmp")], "STANDARD")
        elif case == "failover":
            backup, backup_urls = new_input("failover-rtmp-backup", 1)
            primary, primary_urls = new_input("failover-rtmp", 1)
            self.urls = primary_urls + backup_urls
            attachments = [attachment(primary, "failover-rtmp", backup), attachment(backup, "failover-rtmp-backup")]
            request = ladder_request(case, attachments, "SINGLE_PIPELINE")
        else:
            primary, self.urls = new_input("single-rtmp", 1)
            request = ladder_request(case, [attachment(primary, "single-rtmp")], "SINGLE_PIPELINE")
        self.local.channel_id = ml.create_channel(**request)["Channel"]["Id"]
        self.local._wait(self.local._state, "IDLE", "channel")
        ml.start_channel(ChannelId=self.local.channel_id)
        self.local._wait(self.local._state, "RUNNING", "channel")

    def close(self):
        self.local.close()


def gap_run(binary, workdir, case):
    """One kill: (gap seconds, segments lost)."""
    channel = Channel(binary, workdir, case)
    log_path = workdir / f"encoders-{case}.log"
    try:
        encoders = {RED: encoder(channel.urls[0], RED, log_path)}
        if len(channel.urls) > 1:
            encoders[BLUE] = encoder(channel.urls[1], BLUE, log_path)
        playlist = Playlist(channel.playback)
        # Steady first: a few segments on air. With failover the primary (red) is; on a STANDARD
        # channel whichever pipeline produced first is, and its encoder is the one killed.
        wanted = [RED] if case != "standard" else [RED, BLUE]
        _, since, on_air = playlist.wait_for(wanted, CASE_TIMEOUT)
        _, last, _ = playlist.wait_for([on_air], CASE_TIMEOUT, since_sequence=since + 2)
        killed_at = time.monotonic()
        media.stop(encoders[on_air], grace=0)
        if len(encoders) == 1:
            # Today's answer to a dead encoder: start it again (a fresh colour marks the new run).
            encoder(channel.urls[0], GREEN, log_path)
            survivor = GREEN
        else:
            survivor = BLUE if on_air == RED else RED
        seen_at, sequence, _ = playlist.wait_for([survivor], CASE_TIMEOUT, since_sequence=last)
        old = [s for s, c in playlist.colours.items() if c == on_air]
        return seen_at - killed_at, sequence - max(old) - 1
    finally:
        channel.close()


def cpu_run(binary, workdir, case):
    """Cores the channel's encoders use over CPU_SECONDS of steady input."""
    channel = Channel(binary, workdir, case)
    log_path = workdir / f"encoders-cpu-{case}.log"
    try:
        for url, colour in zip(channel.urls, (RED, BLUE)):
            encoder(url, colour, log_path)
        Playlist(channel.playback).wait_for([RED, BLUE], CASE_TIMEOUT)
        time.sleep(4)  # both pipelines past their first segments

        def ticks():
            total = 0
            for pid in media.child_pids(channel.local.proc.pid, "ffmpeg"):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
                except (OSError, ValueError, IndexError):
                    pass
            return total

        before, started = ticks(), time.monotonic()
        time.sleep(CPU_SECONDS)
        used = (ticks() - before) / os.sysconf("SC_CLK_TCK")
        transcoders = len(media.child_pids(channel.local.proc.pid, "ffmpeg"))
        return used / (time.monotonic() - started), transcoders
    finally:
        channel.close()


GOALS = {
    "standard": "0 segments lost",
    "failover": f"≤ {LOSS_THRESHOLD_MS / 1000:.0f} s + one segment ({SEGMENT_SECONDS} s)",
    "single": "baseline",
}
WHAT = {
    "standard": "pipeline loss, Standard stream",
    "failover": "primary loss, input failover",
    "single": "Single stream, encoder restarts",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", default="standard,failover,single")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, media.interrupted)
    signal.signal(signal.SIGINT, media.interrupted)
    cases = args.cases.split(",")
    gaps, cpu, failed = {c: [] for c in cases}, {}, 0
    try:
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp:
            workdir = Path(tmp)
            for run in range(args.runs):
                for case in cases:
                    try:
                        gap, lost = gap_run(args.binary, workdir, case)
                        media.log(f"{case} run {run + 1}: gap {gap:.2f} s, {lost} segments lost")
                        gaps[case].append((gap, lost))
                    except (media.RunFailed, RuntimeError) as e:
                        failed += 1
                        media.log(f"{case} run {run + 1} failed: {e}")
            for case in ("single", "standard"):
                try:
                    cpu[case] = cpu_run(args.binary, workdir, case)
                except (media.RunFailed, RuntimeError) as e:
                    failed += 1
                    media.log(f"CPU of {case} failed: {e}")
    finally:
        media.stop_all()
    cores, model, ffmpeg = media.machine()
    print(f"\nlivestream-local failover on {cores} cores ({model}; {ffmpeg}), {args.runs} run(s) per case, medians\n")
    print("| case | what fails | gap to the surviving source | segments lost | goal |")
    print("|---|---|---|---|---|")
    for case in cases:
        values = gaps[case]
        gap = f"{statistics.median(v[0] for v in values):.2f} s" if values else "failed"
        lost = f"{statistics.median(v[1] for v in values):.0f}" if values else "–"
        print(f"| {case} | {WHAT[case]} | {gap} | {lost} | {GOALS[case]} |")
    print("\n| channel | encoding ffmpeg processes | CPU (cores, over 20 s) |")
    print("|---|---|---|")
    for case, label in (("single", "SINGLE_PIPELINE, one encoder"), ("standard", "STANDARD, two encoders")):
        if case in cpu:
            cores, processes = cpu[case]
            print(f"| {label} | {processes} | {cores:.2f} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
