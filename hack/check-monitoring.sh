#!/usr/bin/env bash
# Checks deploy/monitoring: the alerting rules (promtool check rules), their unit tests (promtool
# test rules), the Grafana dashboard (valid JSON, only the operator's metrics, the ${datasource}
# variable), and that both are the Helm chart's copy (the one source: deploy/monitoring links to
# deploy/helm/livestream-operator/files). Builds promtool into the cache first if needed
# (hack/control-plane.sh build-promtool). Exits non-zero on the first failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LOG_NAME=check-monitoring
# shellcheck source=hack/lib.sh
. hack/lib.sh

MONITORING=deploy/monitoring
CHART_FILES=deploy/helm/livestream-operator/files

version=$(sed -n 's/^PROMETHEUS_VERSION=\([^ ]*\).*/\1/p' hack/control-plane.sh)
grep -q "^require github.com/prometheus/prometheus $version\$" hack/prometheus/go.mod ||
  die "PROMETHEUS_VERSION=$version in hack/control-plane.sh is not what hack/prometheus/go.mod requires"
hack/control-plane.sh build-promtool
PROMTOOL=$LIVESTREAM_CACHE/bin/promtool-$version

log "one source: $MONITORING/{alerts.yaml,dashboard.json} are the chart's $CHART_FILES/"
for f in alerts.yaml dashboard.json; do
  cmp -s "$MONITORING/$f" "$CHART_FILES/$f" ||
    die "$MONITORING/$f differs from $CHART_FILES/$f: edit the chart's file; $MONITORING/$f is a link to it (ln -sfn ../helm/livestream-operator/files/$f $MONITORING/$f)"
done

log "promtool check rules $MONITORING/alerts.yaml"
"$PROMTOOL" check rules "$MONITORING/alerts.yaml"

log "promtool test rules $MONITORING/alerts_test.yaml"
"$PROMTOOL" test rules "$MONITORING/alerts_test.yaml"

log "dashboard $MONITORING/dashboard.json"
python3 - "$MONITORING/dashboard.json" <<'EOF'
import json, re, sys

METRICS = {
    "livestream_operator_channels_running",
    "livestream_operator_channel_input_connected",
    "livestream_operator_channel_alerts",
    "livestream_operator_channel_run_seconds",
    "livestream_operator_channel_max_run_duration_seconds",
    "livestream_operator_channel_running_seconds_total",
    "livestream_operator_reconciles_total",
    "livestream_operator_aws_calls_total",
}
HISTOGRAMS = {"livestream_operator_reconcile_duration_seconds", "livestream_operator_aws_calls_per_reconcile"}
ALLOWED = METRICS | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
# PromQL words that are not metric names once strings, label matchers, ranges and the label lists
# of by/without/on/ignoring/group_* are removed (functions are followed by "(" and skipped anyway).
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan"}


def metric_names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\w+|\$\{\w+\}", "", expr)  # dashboard variables
    expr = re.sub(r"\blabel_values\((.*),\s*\w+\s*\)", r"label_values(\1)", expr)  # its label name
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        word, call = m.group(1), m.group(2)
        if not call and word.lower() not in KEYWORDS:
            names.add(word)
    return names


with open(sys.argv[1]) as f:
    dashboard = json.load(f)  # fails on invalid JSON
problems = []
datasource = {"type": "prometheus", "uid": "${datasource}"}
variables = {v["name"]: v for v in dashboard["templating"]["list"]}
if variables.get("datasource", {}).get("type") != "datasource":
    problems.append("no `datasource` template variable of type datasource")
for name in ("namespace", "name"):
    if name not in variables:
        problems.append(f"no `{name}` template variable")
exprs = []
for v in variables.values():
    if v["type"] == "query":
        if v.get("datasource") != datasource:
            problems.append(f"variable {v['name']}: datasource is not ${{datasource}}")
        exprs.append((f"variable {v['name']}", v["query"]))
ids = set()
for p in dashboard["panels"]:
    where = f"panel {p['id']} {p['title']!r}"
    if p["id"] in ids:
        problems.append(f"{where}: duplicate id")
    ids.add(p["id"])
    if p.get("datasource") != datasource:
        problems.append(f"{where}: datasource is not ${{datasource}}")
    if not p.get("targets"):
        problems.append(f"{where}: no targets")
    for t in p.get("targets", []):
        if t.get("datasource") != datasource:
            problems.append(f"{where} target {t['refId']}: datasource is not ${{datasource}}")
        exprs.append((where, t["expr"]))
for where, expr in exprs:
    names = metric_names(expr)
    if not names:
        problems.append(f"{where}: no metric in {expr!r}")
    for name in sorted(names - ALLOWED):
        problems.append(f"{where}: {name} is not one of the operator's metrics ({expr!r})")
if problems:
    sys.exit("dashboard: " + "\n  ".join([""] + problems))
print(f"SUCCESS: {len(dashboard['panels'])} panels, {len(exprs)} queries on the operator's metrics")
EOF
log "ok"
