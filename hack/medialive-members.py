#!/usr/bin/env python3
"""Writes (or, with --check, compares) the member table the operator checks a channel's request
against: every shape a CreateChannel request can hold, from botocore's MediaLive model (the one
the pinned AWS CLI of hack/setup.sh brings), reduced to what the check needs — a structure's
member names and shapes, a list's or map's item shape, and a scalar's type.

    hack/medialive-members.py            # rewrite src/desired/overlay/medialive_members.json
    hack/medialive-members.py --check    # fail if the committed table is not what botocore gives

Why: `spec.encoding.overrides` is pasted in AWS's names, and a misspelt member would otherwise be
sent; the operator refuses it, naming it, before any AWS call.
"""
import argparse
import gzip
import json
import os
import sys

import botocore

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "src", "desired", "overlay", "medialive_members.json"))
ROOT = "CreateChannelRequest"


def load_model():
    folder = os.path.join(os.path.dirname(botocore.__file__), "data", "medialive")
    version = sorted(os.listdir(folder))[-1]
    path = os.path.join(folder, version, "service-2.json")
    if os.path.exists(path):
        with open(path) as f:
            return version, json.load(f)
    with gzip.open(path + ".gz") as f:
        return version, json.load(f)


def table(model):
    shapes = model["shapes"]
    out = {}

    def walk(name):
        if name in out:
            return
        shape = shapes[name]
        kind = shape["type"]
        if kind == "structure":
            out[name] = {"members": {member: spec["shape"] for member, spec in shape["members"].items()}}
            for spec in shape["members"].values():
                walk(spec["shape"])
        elif kind == "list":
            out[name] = {"list": shape["member"]["shape"]}
            walk(shape["member"]["shape"])
        elif kind == "map":
            out[name] = {"map": shape["value"]["shape"]}
            walk(shape["value"]["shape"])
        else:
            out[name] = kind

    walk(ROOT)
    return dict(sorted(out.items()))


def compact(value):
    return json.dumps(value, separators=(", ", ": "))


def render():
    version, model = load_model()
    # A shape a line: a model update reads as the shapes it changed.
    shapes = ",\n".join(f"{compact(name)}: {compact(shape)}" for name, shape in table(model).items())
    source = compact(f"botocore {botocore.__version__}, medialive {version}")
    return f'{{"source": {source},\n"root": {compact(ROOT)},\n"shapes": {{\n{shapes}\n}}}}\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = render()
    if args.check:
        with open(OUT) as f:
            committed = f.read()
        if committed == text:
            return
        try:
            written_from = json.loads(committed)["source"]
        except (ValueError, KeyError, TypeError):
            written_from = "unreadable"
        if not written_from.startswith(f"botocore {botocore.__version__},"):
            sys.exit(f"{OUT} was written from another botocore ({written_from}); python3 has botocore "
                     f"{botocore.__version__}: run hack/setup.sh (it pins the AWS CLI), or regenerate and commit")
        sys.exit(f"{OUT} is not what botocore {botocore.__version__} gives: run hack/medialive-members.py and commit")
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
