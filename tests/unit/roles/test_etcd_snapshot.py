"""roles/etcd_backup/files/msa_etcd_snapshot.py: guard, verification, rotation and S3 upload.

etcdctl is a strict fake here (a script that checks the flags the real one needs and answers in its
JSON shapes); the snapshot against a REAL etcd runs in molecule/kubeadm. S3 is moto in-process."""
from __future__ import annotations

import datetime
import importlib.util
import json
import os
import pathlib
import sys

import boto3
import pytest
from moto import mock_aws

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("msa_etcd_snapshot", ROOT / "roles/etcd_backup/files/msa_etcd_snapshot.py")
snap = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(snap)

FAKE_ETCDCTL = r'''#!PYTHON
import json, os, sys
args = sys.argv[1:]
assert os.environ.get("ETCDCTL_API") == "3", "ETCDCTL_API=3 missing"
opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--"))
rest = [a for a in args if not a.startswith("--")]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(rest) + "\n")
if rest[:2] == ["snapshot", "status"]:
    body = open(rest[2], "rb").read()
    if body.startswith(b"EMPTY"):
        print(json.dumps({"revision": 0, "totalKey": 0, "totalSize": 0}))
    else:
        print(json.dumps({"hash": 42, "revision": 7, "totalKey": 3, "totalSize": len(body)}))
    sys.exit(0)
for need in ("endpoints", "cacert", "cert", "key", "command-timeout"):
    if need not in opts:
        sys.exit(f"Error: --{need} missing")
for need in ("cacert", "cert", "key"):
    if not os.path.exists(opts[need]):
        sys.exit(f"Error: open {opts[need]}: no such file or directory")
if rest == ["endpoint", "status", "-w", "json"]:
    print(json.dumps([{"Endpoint": opts["endpoints"], "Status": {"dbSize": int(os.environ["FAKE_DB"])}}]))
elif rest[:2] == ["snapshot", "save"] and len(rest) == 3:
    open(rest[2], "wb").write(os.environ.get("FAKE_BODY", "x").encode() * int(os.environ["FAKE_DB"]))
    print("Snapshot saved at " + rest[2])
else:
    sys.exit(f"Error: unknown command {rest}")
'''


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    tool = tmp_path / "etcdctl"
    tool.write_text(FAKE_ETCDCTL.replace("PYTHON", sys.executable))
    tool.chmod(0o755)
    for name in ("ca.crt", "hc.crt", "hc.key"):
        (tmp_path / name).write_text("pem")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("FAKE_DB", "1000")
    conf = {"dir": str(tmp_path / "backups"), "keep": 3, "etcdctl": str(tool), "cacert": str(tmp_path / "ca.crt"),
            "cert": str(tmp_path / "hc.crt"), "key": str(tmp_path / "hc.key"), "node": "cp-1",
            "status_file": str(tmp_path / "status.json")}
    path = tmp_path / "etcd-backup.json"
    path.write_text(json.dumps(conf))
    return snap.load_config(str(path))


def at(hour):
    return datetime.datetime(2026, 1, 2, hour, 0, 0, tzinfo=datetime.UTC)


def test_snapshots_rotate_keeping_the_newest(cfg):
    for hour in range(5):
        result = snap.run(cfg, now=at(hour))
    names = sorted(os.listdir(cfg["dir"]))
    assert names == [f"etcd-cp-1-20260102T0{h}0000Z.db" for h in (2, 3, 4)]
    assert result["removed"] == ["etcd-cp-1-20260102T010000Z.db"] and result["kept"] == 3
    assert result["revision"] == 7 and result["size"] == 1000 and result["s3_key"] is None
    assert oct(os.stat(result["file"]).st_mode & 0o777) == "0o600"
    # other nodes' files in a shared directory are never rotated away
    (pathlib.Path(cfg["dir"]) / "etcd-cp-2-20200101T000000Z.db").write_text("x")
    snap.run(cfg, now=at(6))
    assert "etcd-cp-2-20200101T000000Z.db" in os.listdir(cfg["dir"])


def test_refuses_when_free_space_is_under_the_factor(cfg, monkeypatch):
    snap.run(cfg, now=at(0))
    monkeypatch.setattr(snap.shutil, "disk_usage", lambda _p: type("U", (), {"free": 1999})())
    with pytest.raises(snap.Refused, match=r"1999 bytes free, needs 2000 \(2 x max\(last snapshot 1000, etcd DB 1000\)\)"):
        snap.run(cfg, now=at(1))
    assert os.listdir(cfg["dir"]) == ["etcd-cp-1-20260102T000000Z.db"]
    assert snap.space_needed(last_size=3000, db_size=1000, factor=2) == 6000


def test_an_unverifiable_snapshot_leaves_nothing_behind(cfg, monkeypatch):
    monkeypatch.setenv("FAKE_BODY", "EMPTY")
    with pytest.raises(snap.Failed, match="is not a valid etcd snapshot"):
        snap.run(cfg, now=at(0))
    assert os.listdir(cfg["dir"]) == []


@mock_aws
def test_upload_puts_the_snapshot_under_the_node_prefix_encrypted(cfg, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # moto in-process, not the session emulator
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="plat-etcd-123456789012")
    cfg.update(s3_bucket="plat-etcd-123456789012", s3_prefix="etcd/")
    result = snap.run(cfg, now=at(3), s3_client=client)
    assert result["s3_key"] == "etcd/cp-1/etcd-cp-1-20260102T030000Z.db"
    head = client.head_object(Bucket="plat-etcd-123456789012", Key=result["s3_key"])
    assert head["ContentLength"] == 1000 and head["ServerSideEncryption"] == "AES256"
    cfg.update(s3_bucket="no-such-bucket")
    with pytest.raises(snap.Failed, match="kept locally, upload to s3://no-such-bucket/etcd/cp-1/"):
        snap.run(cfg, now=at(4), s3_client=client)
    assert "etcd-cp-1-20260102T040000Z.db" in os.listdir(cfg["dir"])


@pytest.mark.parametrize(("conf", "message"), [
    ({"keep": "3"}, "keep must be a positive integer"),
    ({"keep": True}, "keep must be a positive integer"),
    ({"free_factor": 0}, "free_factor must be a positive integer"),
    ({"dir": 5}, "dir must be a string"),
    ({"s3_sse": "none"}, "s3_sse must be AES256 or aws:kms"),
    ({"bucket": "x"}, "unknown settings bucket"),
])
def test_bad_config_names_the_field_and_exits_3(tmp_path, capsys, conf, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(conf))
    with pytest.raises(ValueError, match=message):
        snap.load_config(str(path))
    assert snap.main(["--config", str(path)]) == 3
    assert message in capsys.readouterr().err


def test_main_records_a_failure_in_the_status_file(cfg, tmp_path, capsys):
    cfg_path = tmp_path / "broken.json"
    cfg_path.write_text(json.dumps({"dir": cfg["dir"], "etcdctl": cfg["etcdctl"], "cacert": "/nonexistent",
                                    "status_file": cfg["status_file"]}))
    assert snap.main(["--config", str(cfg_path)]) == 1
    status = json.loads(pathlib.Path(cfg["status_file"]).read_text())
    assert status["ok"] is False and "/nonexistent" in status["error"]
