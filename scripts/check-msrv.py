#!/usr/bin/env python3
"""Fails when a dependency declares a rust-version above loopbench's (Cargo.toml's rust-version
must be the true minimum: the highest of what the dependencies require)."""
import json
import subprocess
import sys


def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--all-features"],
    check=True, capture_output=True, text=True).stdout)
ours = next(p for p in meta["packages"] if p["id"] in meta["workspace_members"])
msrv = ours["rust_version"]
above = [(p["rust_version"], p["name"], p["version"]) for p in meta["packages"]
         if p.get("rust_version") and p["id"] not in meta["workspace_members"]
         and version(p["rust_version"]) > version(msrv)]
if above:
    for rv, name, ver in sorted(above, key=lambda t: version(t[0])):
        print(f"{name} {ver} needs Rust {rv}", file=sys.stderr)
    print(f"error: Cargo.toml says rust-version = \"{msrv}\"; raise it (and README's) to the "
          "highest above, or pin those dependencies to releases that need less", file=sys.stderr)
    sys.exit(1)
print(f"rust-version {msrv}: no dependency needs more")
