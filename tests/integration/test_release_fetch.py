"""The common role's release_fetch: downloads once on the controller, held to the pinned checksum.

Real get_url over file:// URLs and real files; what is asserted is what ends up in the cache and
whether the run stops, with which message.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "release_fetch.yml"


def fetch(archives: list[dict], *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(PLAYBOOK), "-e", json.dumps({"archives": archives, "ansible_python_interpreter": sys.executable}), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture()
def release(tmp_path: Path) -> dict:
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    archive = upstream / "thing-1.0.tar.gz"
    archive.write_bytes(b"the genuine release\n")
    return {"url": archive.as_uri(), "dest": str(tmp_path / "cache" / archive.name), "src": "",
            "checksum": "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest(), "body": archive.read_bytes()}


def archive_item(release: dict, **changes) -> dict:
    return {k: v for k, v in dict(release, **changes).items() if k != "body"}


def test_downloads_into_the_cache_then_reuses_it(release):
    first = fetch([archive_item(release)])
    assert first.returncode == 0, first.stdout
    assert Path(release["dest"]).read_bytes() == release["body"]
    again = fetch([archive_item(release)])
    assert again.returncode == 0, again.stdout
    assert "changed=0" in again.stdout, again.stdout


def test_a_stale_cache_entry_is_replaced_by_the_pinned_release(release):
    Path(release["dest"]).parent.mkdir(parents=True)
    Path(release["dest"]).write_bytes(b"an older or tampered file\n")
    run = fetch([archive_item(release)])
    assert run.returncode == 0, run.stdout
    assert Path(release["dest"]).read_bytes() == release["body"]


def test_a_download_that_does_not_match_the_pin_is_refused_and_not_kept(release):
    run = fetch([archive_item(release, checksum="sha256:" + "0" * 64)])
    assert run.returncode == 2, run.stdout
    assert "did not match" in run.stdout, run.stdout
    assert not Path(release["dest"]).exists()


def test_a_local_copy_is_held_to_the_same_pin(release, tmp_path):
    local = tmp_path / "copy.tar.gz"
    local.write_bytes(b"not the release\n")
    actual = hashlib.sha256(local.read_bytes()).hexdigest()
    run = fetch([archive_item(release, src=str(local))])
    assert run.returncode == 2, run.stdout
    want = release["checksum"].split(":")[1]
    assert f"test: {local} has sha256 {actual}, the pinned one is {want}" in run.stdout, run.stdout
    good = fetch([archive_item(release, src=str(local), checksum="sha256:" + actual)])
    assert good.returncode == 0, good.stdout
    assert not Path(release["dest"]).exists(), "a local copy is used in place, never downloaded"


def test_check_mode_downloads_nothing_and_does_not_fail(release):
    run = fetch([archive_item(release)], "--check")
    assert run.returncode == 0, run.stdout
    assert not Path(release["dest"]).exists()
