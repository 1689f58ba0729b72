#!/usr/bin/env python3
"""Sends every request of local/corpus/ (requests real AWS accepted) to a running livestream-local
with botocore, an independent client, and requires (a) that each is accepted and (b) that the
describe/get an entry names answers with what was sent: every member sent appears, recursively,
with the same value, except the members the entry lists as not echoed (each with its reason).

    hack/check-corpus.py --endpoint http://127.0.0.1:4580 [--only medialive/] [--json out.json]

An entry (local/corpus/<service>/<name>.json):

    {"source": {"url", "repo", "path", "commit" | "version", "changed": [...]},
     "region": "us-east-1",                    # optional
     "steps": [{"id", "service"?, "operation", "params",
                "wait"?: {"operation", "params", "path", "until": [...], "timeout"?},
                "describe"?: {"operation", "params", "sent"?, "got"?,
                              "renamed"?: {path: member}, "json"?: [path],
                              "not_echoed"?: [{"path", "reason"}]}}],
     "cleanup": [step, ...]}                   # run whatever happened; failures only noted

`${id.Path.To.Member}` in params is the member of step `id`'s answer (a whole-string placeholder
keeps the member's type); `${account}` and `${region}` are the server's; `{"$merge": [a, b]}` is a
with b laid over it (an update that changes one member of a described configuration). `sent` / `got` pick the
part of the request / describe answer compared (dotted paths, default the whole). Paths in
`not_echoed`, `renamed`, `json` (string members compared as JSON documents) and `unordered` (lists
AWS may describe in another order) are dotted member names with `[]` for any list index; `describe`
may be a list. `expect`, when given, is compared instead of the sent part (a copy's body).
"""

import argparse
import datetime
import glob
import json
import os
import re
import sys
import time

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from botocore.response import StreamingBody

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "local", "corpus")
SERVICES = ["medialive", "mediapackage", "mediapackagev2", "cloudfront", "s3"]
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")

# The waits a step gets unless it names its own ("wait": false for none): MediaLive's resources
# pass through transitional states, as on AWS. `${_params.X}` is the step's own request member,
# `${_answer.X}` its answer's.
WAITS = {
    ("medialive", "CreateInput"): {"operation": "DescribeInput", "params": {"InputId": "${_answer.Input.Id}"},
                                   "path": "State", "until": ["DETACHED", "ATTACHED"]},
    ("medialive", "CreateChannel"): {"operation": "DescribeChannel", "params": {"ChannelId": "${_answer.Channel.Id}"},
                                     "path": "State", "until": ["IDLE"]},
    ("medialive", "UpdateChannel"): {"operation": "DescribeChannel", "params": {"ChannelId": "${_params.ChannelId}"},
                                     "path": "State", "until": ["IDLE"]},
    ("medialive", "DeleteChannel"): {"operation": "DescribeChannel", "params": {"ChannelId": "${_params.ChannelId}"},
                                     "path": "State", "until": ["DELETED"], "until_error": ["NotFoundException"]},
    ("medialive", "DeleteInput"): {"operation": "DescribeInput", "params": {"InputId": "${_params.InputId}"},
                                   "path": "State", "until": ["DELETED"], "until_error": ["NotFoundException"]},
}


class Refused(Exception):
    """A step AWS accepted that the server refused."""


class Broken(Exception):
    """An entry the checker cannot run (a bad placeholder, a model violation)."""


def dig(value, path):
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value


def plain(value):
    """An answer as JSON-able data: bodies read, times as ISO strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, StreamingBody):
        data = value.read()
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data.hex()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def merge(base, over):
    """`over` laid on `base`: structures merged member by member, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


def substitute(value, env):
    if isinstance(value, dict):
        if set(value) == {"$merge"}:
            parts = [substitute(v, env) for v in value["$merge"]]
            out = parts[0]
            for part in parts[1:]:
                out = merge(out, part)
            return out
        return {k: substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return lookup(whole.group(1), env)
        return PLACEHOLDER.sub(lambda m: str(lookup(m.group(1), env)), value)
    return value


def lookup(name, env):
    step, _, path = name.partition(".")
    if step not in env:
        raise Broken(f"placeholder ${{{name}}}: no step or value {step!r}")
    try:
        return dig(env[step], path)
    except (KeyError, IndexError, ValueError, TypeError):
        raise Broken(f"placeholder ${{{name}}}: the answer of {step!r} has no {path!r}") from None


def norm(path):
    return re.sub(r"\[\d+\]", "[]", path)


def compare(sent, got, path, spec, out):
    """Appends to `out` the paths of `sent` that `got` does not echo."""
    key = norm(path)
    if key in spec["skip"]:
        return
    if key in spec["json"] and isinstance(sent, str) and isinstance(got, str):
        try:
            sent, got = json.loads(sent), json.loads(got)
        except ValueError:
            pass
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            out.append(f"{path or '(root)'}: sent a structure, described {short(got)}")
            return
        for member, value in sent.items():
            sub = f"{path}.{member}" if path else member
            if norm(sub) in spec["skip"]:
                continue
            target = spec["renamed"].get(norm(sub), member)
            if target not in got:
                out.append(f"{sub}: missing (sent {short(value)})")
                continue
            compare(value, got[target], sub, spec, out)
    elif isinstance(sent, list):
        if not isinstance(got, list):
            out.append(f"{path}: sent a list, described {short(got)}")
        elif len(sent) != len(got):
            out.append(f"{path}: sent {len(sent)} items, described {len(got)}: {short(got)}")
        elif key in spec["unordered"]:
            left = list(got)
            for i, s in enumerate(sent):
                match = next((g for g in left if not compared(s, g, f"{path}[{i}]", spec)), None)
                if match is None:
                    out.append(f"{path}[{i}]: sent {short(s)}, not among the described {short(got)}")
                else:
                    left.remove(match)
        else:
            for i, (s, g) in enumerate(zip(sent, got)):
                compare(s, g, f"{path}[{i}]", spec, out)
    else:
        if isinstance(sent, bool) or isinstance(got, bool):
            same = sent is got
        elif isinstance(sent, (int, float)) and isinstance(got, (int, float)):
            same = float(sent) == float(got)
        else:
            same = sent == got
        if not same:
            out.append(f"{path}: sent {short(sent)}, described {short(got)}")


def compared(sent, got, path, spec):
    out = []
    compare(sent, got, path, spec, out)
    return out


def short(value, limit=160):
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Runner:
    def __init__(self, endpoint, account):
        self.endpoint = endpoint
        self.account = account
        self.session = botocore.session.get_session()
        self.session.set_credentials("local", "local")
        self.clients = {}

    def client(self, service, region):
        key = (service, region)
        if key not in self.clients:
            self.clients[key] = self.session.create_client(
                service,
                region_name=region,
                endpoint_url=self.endpoint,
                aws_access_key_id="local",
                aws_secret_access_key="local",
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 1, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        return self.clients[key]

    def call(self, service, region, operation, params):
        client = self.client(service, region)
        method = getattr(client, camel_to_snake(operation), None)
        if method is None:
            raise Broken(f"{service} has no operation {operation}")
        try:
            return method(**params)
        except ParamValidationError as e:
            raise Broken(f"{operation}: botocore refuses the request itself: {e}") from None

    def wait(self, service, region, wait, env):
        params = substitute(wait.get("params", {}), env)
        deadline = time.time() + wait.get("timeout", 60)
        last = None
        while time.time() < deadline:
            try:
                answer = self.call(service, region, wait["operation"], params)
                last = dig(answer, wait["path"])
                if last in wait.get("until", []):
                    return
            except ClientError as e:
                last = e.response.get("Error", {}).get("Code")
                if last in wait.get("until_error", []):
                    return
            time.sleep(0.2)
        raise Refused(f"{wait['operation']}: {wait['path']} still {last!r} after {wait.get('timeout', 60)} s "
                      f"(waited for {wait.get('until') or wait.get('until_error')})")

    def run(self, entry):
        """Returns (status, details): status ok | REFUSED | NOT ECHOED | BROKEN."""
        region = entry.get("region", "us-east-1")
        env = {"account": self.account, "region": region}
        default_service = entry["service"]
        status, details = "ok", []
        try:
            for step in entry["steps"]:
                service = step.get("service", default_service)
                params = substitute(step.get("params", {}), env)
                try:
                    env[step["id"]] = self.call(service, region, step["operation"], params)
                except ClientError as e:
                    err = e.response.get("Error", {})
                    raise Refused(f"step {step['id']} {service}:{step['operation']}: "
                                  f"{err.get('Code')} (HTTP {e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}): "
                                  f"{err.get('Message')}") from None
                wait = step.get("wait", WAITS.get((service, step["operation"])))
                if wait:
                    self.wait(service, region, wait, dict(env, _params=params, _answer=env[step["id"]]))
                describes = step.get("describe") or []
                for describe in describes if isinstance(describes, list) else [describes]:
                    spec = {
                        "skip": {norm(n["path"]) for n in describe.get("not_echoed", [])},
                        "renamed": {norm(k): v for k, v in describe.get("renamed", {}).items()},
                        "json": {norm(p) for p in describe.get("json", [])},
                        "unordered": {norm(p) for p in describe.get("unordered", [])},
                    }
                    dparams = substitute(describe.get("params", {}), env)
                    try:
                        answer = plain(self.call(describe.get("service", service), region, describe["operation"], dparams))
                    except ClientError as e:
                        err = e.response.get("Error", {})
                        raise Refused(f"step {step['id']} describe {describe['operation']}: {err.get('Code')}: "
                                      f"{err.get('Message')}") from None
                    try:
                        sent = substitute(describe["expect"], env) if "expect" in describe else dig(params, describe.get("sent", ""))
                        got = dig(answer, describe.get("got", ""))
                    except (KeyError, IndexError, ValueError):
                        status = "NOT ECHOED"
                        details.append(f"step {step['id']}: {describe['operation']} answer has no "
                                       f"{describe.get('got')!r}: {short(answer, 400)}")
                        continue
                    sent = plain(sent)
                    if isinstance(sent, dict) and isinstance(got, dict) and "expect" not in describe and not describe.get("sent"):
                        # The members that address the resource are sent again in the describe call
                        # itself (S3's Bucket and Key): echoed by the call, not by its answer.
                        sent = {k: v for k, v in sent.items() if not (k not in got and dparams.get(k) == v)}
                    missing = []
                    compare(sent, got, "", spec, missing)
                    if missing:
                        status = "NOT ECHOED"
                        details += [f"step {step['id']} ({describe['operation']}): {m}" for m in missing]
        except Refused as e:
            status, details = "REFUSED", [str(e)] + details
        except Broken as e:
            status, details = "BROKEN", [str(e)] + details
        except Exception as e:  # a connection error, a parser error: the server's answer was not AWS's form
            status, details = "REFUSED", [f"{type(e).__name__}: {e}"] + details
        notes = self.cleanup(entry, env, region, default_service)
        return status, details, notes

    def cleanup(self, entry, env, region, default_service):
        notes = []
        for step in entry.get("cleanup", []):
            service = step.get("service", default_service)
            try:
                params = substitute(step.get("params", {}), env)
                answer = self.call(service, region, step["operation"], params)
                if "id" in step:
                    env[step["id"]] = answer
                wait = step.get("wait", WAITS.get((service, step["operation"])))
                if wait:
                    self.wait(service, region, wait, dict(env, _params=params, _answer=answer))
            except Broken:
                continue  # a step it refers to never ran
            except (ClientError, Refused) as e:
                notes.append(f"cleanup {step['operation']}: {e}")
        return notes


def camel_to_snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--only", action="append", default=[], help="run entries whose <service>/<name> starts so")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--corpus", default=ROOT)
    args = ap.parse_args()

    runner = Runner(args.endpoint, args.account)
    results = []
    for service in SERVICES:
        for path in sorted(glob.glob(os.path.join(args.corpus, service, "*.json"))):
            name = f"{service}/{os.path.basename(path)[:-5]}"
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            with open(path) as f:
                entry = json.load(f)
            entry.setdefault("service", service)
            status, details, notes = runner.run(entry)
            results.append({"entry": name, "status": status, "details": details, "cleanup": notes,
                            "source": entry.get("source", {}).get("url")})
            print(f"{status:<11} {name}", flush=True)
            for d in details:
                print(f"            {d}", flush=True)
            for n in notes:
                print(f"            (note) {n}", flush=True)

    print()
    print(f"{'service':<16}{'entries':>8}{'ok':>6}{'refused':>9}{'not echoed':>12}{'broken':>8}")
    for service in SERVICES:
        rows = [r for r in results if r["entry"].startswith(service + "/")]
        if not rows:
            continue
        count = lambda s: sum(1 for r in rows if r["status"] == s)  # noqa: E731
        print(f"{service:<16}{len(rows):>8}{count('ok'):>6}{count('REFUSED'):>9}{count('NOT ECHOED'):>12}{count('BROKEN'):>8}")
    failed = [r for r in results if r["status"] != "ok"]
    print(f"{len(results) - len(failed)} of {len(results)} entries accepted and described back")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
