# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One etcd snapshot of the local member, verified, rotated, optionally uploaded to S3.

Installed by the msa.platform.etcd_backup role as /usr/local/lib/msa-etcd-snapshot.py and run by
msa-etcd-snapshot.service (its timer, or the role's `snapshot` entry point). Settings come from a
root-only JSON file (--config, default /etc/msa-etcd-backup.json); nothing secret is on a command
line: etcdctl reads the client certificate files, boto3 the instance profile.

Steps: lock -> endpoint status (health, DB size) -> free-space guard -> snapshot save to a .partial
file -> snapshot status (verified: a readable bolt file with a hash and a size) -> rename -> keep the newest `keep`
-> upload to s3://bucket/prefix<node>/<file> -> status JSON (stdout and `status_file`).
Exit codes: 0 done, 1 etcd/S3/verification failure, 2 refused for lack of disk space, 3 bad config.
"""
from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys

NAME_RE = re.compile(r"^etcd-(?P<node>.+)-(?P<stamp>\d{8}T\d{6}Z)\.db$")
DEFAULTS = {"dir": "/var/backups/etcd", "keep": 24, "free_factor": 2, "endpoint": "https://127.0.0.1:2379",
            "cacert": "/etc/kubernetes/pki/etcd/ca.crt", "cert": "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
            "key": "/etc/kubernetes/pki/etcd/healthcheck-client.key", "etcdctl": "/usr/bin/etcdctl", "etcdutl": "",
            "node": "", "s3_bucket": "", "s3_prefix": "", "s3_region": "", "s3_endpoint_url": "", "s3_sse": "AES256",
            "s3_kms_key": "", "status_file": "/var/lib/msa-etcd-backup/status.json", "timeout": 120}


class Refused(Exception):
    """Not enough disk space for a snapshot: exit 2."""


class Failed(Exception):
    """etcd, verification or upload failed: exit 1."""


def load_config(path: str) -> dict:
    """Settings merged over DEFAULTS; ValueError names the bad field."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(unknown)}")
    cfg = dict(DEFAULTS, **raw)
    for key in ("keep", "free_factor", "timeout"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise ValueError(f"{path}: {key} must be a positive integer, got {cfg[key]!r}")
    for key in set(DEFAULTS) - {"keep", "free_factor", "timeout"}:
        if not isinstance(cfg[key], str):
            raise ValueError(f"{path}: {key} must be a string, got {type(cfg[key]).__name__}")
    if not cfg["node"]:
        cfg["node"] = os.uname().nodename
    if cfg["s3_sse"] not in ("AES256", "aws:kms"):
        raise ValueError(f"{path}: s3_sse must be AES256 or aws:kms, got {cfg['s3_sse']!r}")
    return cfg


def snapshots(directory: str, node: str) -> list:
    """This node's finished snapshots in `directory`, oldest first (names sort by their UTC stamp)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if (m := NAME_RE.match(n)) and m.group("node") == node)


def to_delete(names: list, keep: int) -> list:
    """The oldest snapshots beyond the newest `keep` (names oldest first)."""
    return names[:-keep] if len(names) > keep else []


def space_needed(last_size: int, db_size: int, factor: int) -> int:
    """Bytes that must be free before a new snapshot: factor x the larger of the last snapshot and the
    live database (a snapshot is about the DB size; the factor leaves room for growth and the rename)."""
    return factor * max(last_size, db_size)


def etcdctl(cfg: dict, *args: str) -> str:
    argv = [cfg["etcdctl"], f"--endpoints={cfg['endpoint']}", f"--cacert={cfg['cacert']}", f"--cert={cfg['cert']}",
            f"--key={cfg['key']}", f"--command-timeout={cfg['timeout']}s", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"), check=False,
                          timeout=cfg["timeout"] + 30)
    if proc.returncode:
        raise Failed(f"etcdctl {' '.join(args[:2])}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def snapshot_status(cfg: dict, path: str) -> dict:
    """`etcdutl snapshot status` (etcd 3.5+) or `etcdctl snapshot status` (3.4), checked."""
    if cfg["etcdutl"]:
        argv = [cfg["etcdutl"], "snapshot", "status", path, "-w", "json"]
    else:
        argv = [cfg["etcdctl"], "snapshot", "status", path, "-w", "json"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"), check=False)
    if proc.returncode:
        raise Failed(f"snapshot status {path}: {proc.stderr.strip()}")
    status = json.loads(proc.stdout)
    # A readable bolt file with a hash; an empty store (revision 0) is still a true snapshot.
    if "hash" not in status or not status.get("totalSize") or status.get("totalKey") is None:
        raise Failed(f"snapshot {path} is not a valid etcd snapshot: {status}")
    return status


def db_size(cfg: dict) -> int:
    status = json.loads(etcdctl(cfg, "endpoint", "status", "-w", "json"))
    return int(status[0]["Status"]["dbSize"])


def upload(cfg: dict, path: str, client=None) -> str:
    """Put the snapshot at s3://bucket/<prefix><node>/<name>; returns the key."""
    import boto3  # only on nodes that upload (python3-boto3)
    from botocore.exceptions import BotoCoreError, ClientError

    if client is None:
        client = boto3.client("s3", region_name=cfg["s3_region"] or None, endpoint_url=cfg["s3_endpoint_url"] or None)
    key = f"{cfg['s3_prefix']}{cfg['node']}/{os.path.basename(path)}"
    extra = {"ServerSideEncryption": cfg["s3_sse"]}
    if cfg["s3_sse"] == "aws:kms" and cfg["s3_kms_key"]:
        extra["SSEKMSKeyId"] = cfg["s3_kms_key"]
    try:
        with open(path, "rb") as body:
            client.put_object(Bucket=cfg["s3_bucket"], Key=key, Body=body, **extra)
    except (BotoCoreError, ClientError) as exc:
        raise Failed(f"snapshot {path} kept locally, upload to s3://{cfg['s3_bucket']}/{key} failed: {exc}") from exc
    return key


def run(cfg: dict, now=None, s3_client=None) -> dict:
    now = now or datetime.datetime.now(datetime.UTC)
    os.makedirs(cfg["dir"], mode=0o700, exist_ok=True)
    existing = snapshots(cfg["dir"], cfg["node"])
    last = os.path.getsize(os.path.join(cfg["dir"], existing[-1])) if existing else 0
    live = db_size(cfg)
    need, free = space_needed(last, live, cfg["free_factor"]), shutil.disk_usage(cfg["dir"]).free
    if free < need:
        raise Refused(f"refusing to snapshot: {cfg['dir']} has {free} bytes free, needs {need} "
                      f"({cfg['free_factor']} x max(last snapshot {last}, etcd DB {live})); free space or lower keep")
    name = f"etcd-{cfg['node']}-{now.strftime('%Y%m%dT%H%M%SZ')}.db"
    final = os.path.join(cfg["dir"], name)
    partial = final + ".partial"
    try:
        etcdctl(cfg, "snapshot", "save", partial)
        status = snapshot_status(cfg, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    removed = to_delete(snapshots(cfg["dir"], cfg["node"]), cfg["keep"])
    for old in removed:
        os.unlink(os.path.join(cfg["dir"], old))
    result = {"file": final, "size": os.path.getsize(final), "revision": status["revision"], "keys": status["totalKey"],
              "hash": status.get("hash"), "removed": removed, "kept": len(snapshots(cfg["dir"], cfg["node"])), "s3_key": None,
              "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if cfg["s3_bucket"]:
        result["s3_key"] = upload(cfg, final, s3_client)
    return result


def write_status(cfg: dict, status: dict) -> None:
    os.makedirs(os.path.dirname(cfg["status_file"]), exist_ok=True)
    tmp = cfg["status_file"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(status, handle)
    os.replace(tmp, cfg["status_file"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default="/etc/msa-etcd-backup.json")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"msa-etcd-snapshot: {exc}", file=sys.stderr)
        return 3
    os.makedirs(cfg["dir"], mode=0o700, exist_ok=True)
    with open(os.path.join(cfg["dir"], ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            status = dict(run(cfg), ok=True)
            code = 0
        except (Refused, Failed, subprocess.TimeoutExpired, OSError, ValueError) as exc:
            status = {"ok": False, "error": str(exc), "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            code = 2 if isinstance(exc, Refused) else 1
            print(f"msa-etcd-snapshot: {exc}", file=sys.stderr)
        write_status(cfg, status)
    print(json.dumps(status))
    return code


if __name__ == "__main__":
    sys.exit(main())
