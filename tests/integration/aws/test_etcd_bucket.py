"""The etcd snapshot bucket (roles/etcd_backup, `bucket` entry point) against the emulator, with the real amazon.aws /
community.aws modules: named <platform>-etcd-<account id>, SSE, public access blocked, versioned, lifecycle expiry,
TLS-only policy (a plain-HTTP put is refused), converged on a second run; teardown removes it with its versions."""
from __future__ import annotations

import importlib.util
import json
import subprocess

import boto3
import pytest
from network_harness import REGION, ROOT, URL, ansible_env, recap

pytestmark = pytest.mark.emulator

BOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: msa.platform.etcd_backup
        tasks_from: bucket
      vars:
        etcd_backup_platform: ecoeco
        etcd_backup_s3_region: {region}
        etcd_backup_s3_retention_days: 14
        etcd_backup_aws_endpoint_url: {url}
    - ansible.builtin.debug:
        msg: "BUCKET={{{{ etcd_backup_bucket }}}}"
"""
TEARDOWN = """
- hosts: localhost
  gather_facts: false
  tasks:
    - msa.platform.aws_teardown: {{platform: ecoeco, confirm: ecoeco, region: {region}, endpoint_url: {url}}}
"""


def run(tmp_path, text: str) -> subprocess.CompletedProcess:
    book = tmp_path / "book.yml"
    book.write_text(text.format(region=REGION, url=URL))
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter={{ ansible_playbook_python }}", str(book)],
                          cwd=ROOT, env=ansible_env(URL), capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    return done


def test_bucket_is_private_encrypted_versioned_expiring_and_torn_down(aws, tmp_path):
    s3 = boto3.client("s3", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    account = boto3.client("sts", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing",
                           aws_secret_access_key="testing").get_caller_identity()["Account"]
    first = run(tmp_path, BOOK)
    name = f"ecoeco-etcd-{account}"
    assert f"BUCKET={name}" in first.stdout
    assert recap(run(tmp_path, BOOK))["changed"] == 0

    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert rule["Status"] == "Enabled" and rule["Expiration"] == {"Days": 14}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}["msa:platform"] == "ecoeco"

    # what a control plane's timer does after a snapshot, over the emulator's plain HTTP: the TLS-only policy refuses it
    # (the emulator evaluates bucket policies; the upload itself is tested over moto in tests/unit/roles/test_etcd_snapshot.py)
    spec = importlib.util.spec_from_file_location("snap", ROOT / "roles/etcd_backup/files/msa_etcd_snapshot.py")
    snap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(snap)
    file = tmp_path / "etcd-kcp-1-20260102T000000Z.db"
    file.write_bytes(b"snapshot")
    cfg = dict(snap.DEFAULTS, node="kcp-1", s3_bucket=name, s3_prefix="etcd/")
    with pytest.raises(snap.Failed, match=r"upload to s3://ecoeco-etcd-\d+/etcd/kcp-1/etcd-kcp-1-20260102T000000Z.db failed.*Forbidden"):
        snap.upload(cfg, str(file), client=s3)

    run(tmp_path, TEARDOWN)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
