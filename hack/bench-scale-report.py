#!/usr/bin/env python3
"""The report of hack/bench-scale.sh: reads the run's samples, marks and metrics from its work
directory and prints the tables. Arguments: as hack/bench-scale.sh passes them."""
import collections, json, os, re, sys

(work, n, resync, window, throttle, create_ok, delete_ok, left_ok, prod_resync, prod_streams,
 sample_s) = sys.argv[1:]
resync, full_read = resync.split(":")
n, resync, full_read, window = int(n), int(resync), int(full_read), int(window)
prod_resync, prod_streams = int(prod_resync), int(prod_streams)
create_ok, delete_ok, left_ok = create_ok == "1", delete_ok == "1", left_ok == "1"
w = lambda name: os.path.join(work, name)

marks = {}
for line in open(w("marks")):
    name, t = line.split()
    marks[name] = float(t)
samples = []
for line in open(w("samples.jsonl")):
    try:
        samples.append(json.loads(line))
    except ValueError:
        pass

def calls_of(rows):
    out = collections.Counter()
    for r in rows or []:
        out[(r["service"], r["operation"], r["outcome"])] += r["count"]
    return out

def snapshot(label):
    return marks[f"snapshot-{label}"], calls_of(json.load(open(w(f"calls-{label}.json"))))

def metrics(label):
    out = collections.Counter()
    for line in open(w(f"metrics-{label}.txt")):
        if line.startswith("#") or not line.strip():
            continue
        key, value = line.rsplit(" ", 1)
        out[key] += float(value)
    return out

def by_op(counter, throttled_only=False):
    out = collections.Counter()
    for (svc, op, outcome), c in counter.items():
        if not throttled_only or outcome == "TooManyRequestsException":
            out[(svc, op)] += c
    return out

def fmt(x, digits=1):
    return f"{x:,.{digits}f}"

phases = [("create", f"create {n}"), ("steady", "steady"), ("delete", f"delete {n}")]
results = {}
for key, title in phases:
    if f"snapshot-{key}-start" not in marks or f"snapshot-{key}-end" not in marks:
        continue
    t0, c0 = snapshot(f"{key}-start")
    t1, c1 = snapshot(f"{key}-end")
    diff = c1 - c0
    wall = marks[f"{key}-end"] - marks[f"{key}-start"]
    # Rates between consecutive counter readings (the sampler's, bounded by the two snapshots).
    points = [(t0, c0)] + [(s["t"], calls_of(s["calls"])) for s in samples
                           if s["calls"] is not None and t0 < s["t"] < t1] + [(t1, c1)]
    peak_total, peak_op, peak_op_name, peak_ok, peak_ok_name = 0.0, 0.0, "-", 0.0, "-"
    prev = points[0]
    for point in points[1:]:
        dt = point[0] - prev[0]
        if dt < 1.0:
            continue
        d = by_op(point[1] - prev[1])
        total = sum(d.values()) / dt
        peak_total = max(peak_total, total)
        for (svc, op), c in d.items():
            if c / dt > peak_op:
                peak_op, peak_op_name = c / dt, f"{svc} {op}"
        for (svc, op, outcome), c in (point[1] - prev[1]).items():
            if outcome == "ok" and c / dt > peak_ok:
                peak_ok, peak_ok_name = c / dt, f"{svc} {op}"
        prev = point
    # CPU seconds of each process over the phase, from the samples nearest its ends.
    inside = [s for s in samples if t0 - 3 <= s["t"] <= t1 + 3]
    cpu = {}
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        span = b["t"] - a["t"]
        for name in a["cpu"]:
            if a["cpu"][name] is not None and b["cpu"].get(name) is not None:
                cpu[name] = (b["cpu"][name] - a["cpu"][name]) / span
        cpu["machine"] = (b["machine"] - a["machine"]) / span
        cpu["load"] = max(float(s["load"]) for s in inside)
    rss = [s["rss"]["operator"] for s in inside if s.get("rss", {}).get("operator") is not None]
    cpu["rss_peak"] = max(rss) if rss else None
    cpu["rss_end"] = rss[-1] if rss else None
    m0, m1 = metrics(f"{key}-start"), metrics(f"{key}-end")
    md = m1 - m0
    results[key] = dict(title=title, wall=wall, diff=diff, ops=by_op(diff), throttled=by_op(diff, True),
                        peak=peak_total, peak_op=peak_op, peak_op_name=peak_op_name, peak_ok=peak_ok,
                        peak_ok_name=peak_ok_name, cpu=cpu, m=md)

def row(*cells):
    print("| " + " | ".join(str(c) for c in cells) + " |")

print(f"\n### Scale: {n} LiveStreams, one operator (resync {resync} s, full read {full_read} s, window {window} s, "
      f"throttle `{throttle}`)\n")
row("phase", "wall time (s)", "AWS calls", "peak calls/s", "mean calls/s", "max per-op calls/s",
    "max per-op accepted calls/s", "throttled", "calls per stream")
row(*["---"] * 9)
for key, r in results.items():
    total = sum(r["ops"].values())
    throttled = sum(r["throttled"].values())
    row(r["title"], fmt(r["wall"]), f"{total:,}", fmt(r["peak"]), fmt(total / r["wall"]),
        f"{fmt(r['peak_op'])} ({r['peak_op_name']})", f"{fmt(r['peak_ok'])} ({r['peak_ok_name']})",
        f"{throttled:,}", fmt(total / n, 2))
print(f"\nRates are over ~{sample_s} s intervals of livestream-local's counters; calls include throttled "
      "attempts (AWS SDK retries count once each); accepted = answered without an error.")
# How readiness progressed during the create phase (from the 2 s polls).
progress = []
if os.path.exists(w("ready.txt")):
    progress = [(float(t) - marks["create-start"], int(r)) for t, r in (l.split() for l in open(w("ready.txt")))]
if progress:
    firsts = []
    for share in (0.5, 0.9, 1.0):
        hit = next((t for t, r in progress if r >= share * n), None)
        firsts.append(f"{int(share * 100)} % at {fmt(hit)} s" if hit is not None else f"{int(share * 100)} % never")
    print(f"\nReady during create: " + ", ".join(firsts) + f"; most at once {max(r for _, r in progress)}/{n}.")
if not create_ok:
    ready = open(w("create-ready")).read().strip()
    print(f"\n**create timed out** with {ready}/{n} Ready; the steady window was skipped.")
if not delete_ok:
    print(f"\n**delete timed out** with {open(w('delete-left')).read().strip()} LiveStreams left.")

print()
row("phase", "reconciles", "failed reconciles (reason)", "AWS calls / reconcile", "mean reconcile (s)",
    "CPU cores: operator", "kube-apiserver + etcd", "livestream-local", "whole machine (max load)")
row(*["---"] * 9)
for key, r in results.items():
    m = r["m"]
    rec = {k: v for k, v in m.items() if k.startswith("livestream_operator_reconciles_total")}
    total_rec = sum(rec.values())
    failed = {re.search(r'outcome="([^"]*)"', k).group(1): v for k, v in rec.items()
              if 'outcome="ok"' not in k and v}
    per = m["livestream_operator_aws_calls_per_reconcile_sum"] / max(1, m["livestream_operator_aws_calls_per_reconcile_count"])
    dur = m["livestream_operator_reconcile_duration_seconds_sum"] / max(1, m["livestream_operator_reconcile_duration_seconds_count"])
    c = r["cpu"]
    g = lambda k: fmt(c[k], 2) if k in c else "-"
    api = fmt(c["kube-apiserver"] + c["etcd"], 2) if "kube-apiserver" in c and "etcd" in c else "-"
    row(r["title"], f"{int(total_rec):,}", ", ".join(f"{int(v):,} {k}" for k, v in sorted(failed.items())) or "0",
        fmt(per, 2), fmt(dur, 2), g("operator"), api, g("livestream-local"),
        f"{g('machine')} of 2 ({c.get('load', '-')})")
# The operator's memory: peak and end of each phase (VmRSS, MiB).
print()
row("phase", "operator RSS peak (MiB)", "operator RSS at the end (MiB)")
row(*["---"] * 3)
for key, r in results.items():
    c = r["cpu"]
    row(r["title"], fmt(c.get("rss_peak")), fmt(c.get("rss_end")))
# The rate-limit floor of the create phase: every resource has to be created once, so the busiest
# Create operation's calls divided by its limit is the least time creating N streams can take
# (livestream-local keys its buckets by operation name, so both services' calls count). The busiest
# operation of the run, including reads, is shown next to it.
limits = {}
ready_ratio = per_hour = None
for part in ([] if throttle == "none" else throttle.split(",")):
    op, _, limit = part.partition("=")
    limits[op] = float(limit)
create = results.get("create")
if create and limits:
    by_name = collections.Counter()
    for (svc, op), calls in create["ops"].items():
        by_name[op] += calls
    limit_of = lambda op: limits.get(op, limits.get("*", float("inf")))
    seconds = {op: calls / limit_of(op) for op, calls in by_name.items()}
    creates = [op for op in seconds if op.startswith("Create")]
    floor_op = max(creates, key=seconds.get, default=None)
    busiest = max(seconds, key=seconds.get, default=None)
    if floor_op:
        floor = seconds[floor_op]
        full = next((t for t, r in progress if r >= n), None)
        ready_ratio = full / floor if full and floor else None
        ratio = f"; all Ready at {fmt(full)} s = {fmt(ready_ratio, 2)}× the floor" if ready_ratio else ""
        print(f"\nRate-limit floor of the create phase: {fmt(floor)} s ({floor_op}: {by_name[floor_op]:,} calls at "
              f"{fmt(limit_of(floor_op))}/s){ratio}. Busiest operation of the phase: {busiest}, "
              f"{by_name[busiest]:,} calls = {fmt(seconds[busiest])} s of its limit.")
# The operator's own count of its calls, as a cross-check of livestream-local's.
for key, r in results.items():
    op_calls = sum(v for k, v in r["m"].items() if k.startswith("livestream_operator_aws_calls_total"))
    op_throttled = sum(v for k, v in r["m"].items()
                       if k.startswith("livestream_operator_aws_calls_total") and 'outcome="throttled"' in k)
    print(f"\n{r['title']}: the operator counted {int(op_calls):,} AWS call attempts "
          f"({int(op_throttled):,} throttled); livestream-local {sum(r['ops'].values()):,} "
          f"({sum(r['throttled'].values()):,}).", end="")
print()

steady = results.get("steady")
print()
cols = ["operation", "create: calls (throttled)"]
if steady:
    cols += ["steady: calls/s", "steady: per stream per resync", f"at {prod_resync} s, {prod_streams:,} streams: calls/s"]
cols += ["delete: calls (throttled)"]
row(*cols)
row(*["---"] * len(cols))
ops = sorted(set().union(*(r["ops"].keys() for r in results.values())))
extrapolated = {}
for op in ops:
    cells = [f"{op[0]} {op[1]}"]
    if "create" in results:
        r = results["create"]
        cells.append(f"{r['ops'][op]:,} ({r['throttled'][op]:,})")
    else:
        cells.append("-")
    if steady:
        calls = steady["ops"][op]
        per_resync = calls / n / (steady["wall"] / resync)
        extrapolated[op] = per_resync * prod_streams / prod_resync
        cells += [fmt(calls / steady["wall"], 2), fmt(per_resync, 2), fmt(extrapolated[op], 2)]
    r = results.get("delete")
    cells.append(f"{r['ops'][op]:,} ({r['throttled'][op]:,})" if r else "-")
    row(*cells)
if steady:
    total = sum(steady["ops"].values())
    per_stream = total / n / (steady["wall"] / resync)
    per_hour = per_stream * 3600 / prod_resync
    busiest = max(extrapolated.items(), key=lambda kv: kv[1]) if extrapolated else (("-", "-"), 0)
    print(f"\nSteady: {fmt(per_stream, 2)} AWS calls per stream per resync, "
          f"{fmt(per_stream * 3600 / prod_resync, 1)} per stream per hour at the production resync. "
          "Extrapolated to the production "
          f"resync ({prod_resync} s) and {prod_streams:,} streams: {fmt(sum(extrapolated.values()), 1)} calls/s "
          f"in total, at most {fmt(busiest[1], 2)}/s for one operation ({busiest[0][0]} {busiest[0][1]}) "
          f"— against the stand-in limit `{throttle}` per operation.")

# The budgets the operator is held to (issue 31): Ready within 2× the floor, at most 15 AWS calls
# per stream per hour at steady state (production resync and full read), RSS at most 64 MiB.
rss_peak = max((r["cpu"].get("rss_peak") or 0 for r in results.values()), default=None)
print()
row("budget", "limit", "measured", "held")
row(*["---"] * 4)
for name, limit, value in (("all Ready, × the rate-limit floor", 2.0, ready_ratio),
                           ("steady AWS calls per stream per hour", 15.0, per_hour),
                           ("operator RSS peak (MiB)", 64.0, rss_peak)):
    row(name, fmt(limit), fmt(value, 2) if value is not None else "not measured",
        "-" if value is None else ("yes" if value <= limit else "**no**"))

# Leftovers in livestream-local after the delete.
left_total = None
if left_ok:
    def items(svc, op, key):
        return json.load(open(w(f"left-{svc}-{op}.json"))).get(key, [])
    live = lambda xs: [x for x in xs if x.get("State") not in ("DELETED",)]
    left = {
        "MediaLive channels": len(live(items("medialive", "list-channels", "Channels"))),
        "inputs": len(live(items("medialive", "list-inputs", "Inputs"))),
        "input security groups": len(live(items("medialive", "list-input-security-groups", "InputSecurityGroups"))),
        "MediaPackage channels": len(items("mediapackage", "list-channels", "Channels")),
        "origin endpoints": len(items("mediapackage", "list-origin-endpoints", "OriginEndpoints")),
        "v2 channel groups": len(items("mediapackagev2", "list-channel-groups", "Items")),
        "CloudFront distributions": len((json.load(open(w("left-cloudfront-list-distributions.json")))
                                         .get("DistributionList") or {}).get("Items") or []),
    }
    left_total = sum(left.values())
    print("\nLeft in livestream-local after the delete (AWS CLI list calls): "
          + ", ".join(f"{v} {k}" for k, v in left.items()) + ".")

# The operator's warnings and errors, grouped.
groups = collections.Counter()
for line in open(w("operator.log"), errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("level") in ("WARN", "ERROR"):
        f = e.get("fields", {})
        msg = f.get("message", "")
        error = re.sub(r"^reconciler for object \S+ failed: ", "", str(f.get("error", "")))
        detail = f.get("reason") or re.sub(r"[0-9a-f-]{8,}|\d+", "#", error)[:100]
        groups[(e["level"], msg, detail)] += 1
if groups:
    print("\nOperator log, warnings and errors:")
    for (level, msg, detail), c in groups.most_common(10):
        print(f"- {c:,} × {level} {msg}" + (f" — {detail}" if detail else ""))
else:
    print("\nOperator log: no warnings or errors.")
with open(w("verdict"), "w") as f:
    f.write("ok" if create_ok and delete_ok and left_total == 0 else "fail")
