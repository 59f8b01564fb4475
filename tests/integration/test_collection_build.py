"""`ansible-galaxy collection build` makes an installable tarball with our content and nothing local."""
from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_produces_a_clean_tarball(tmp_path: Path):
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, timeout=180, check=False, env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr
    (tarball,) = tmp_path.glob("msa-platform-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for wanted in ("MANIFEST.json", "plugins/modules/topology.py", "plugins/inventory/aws_cluster.py",
                   "roles/aws_network/tasks/main.yml", "playbooks/site.yml", "meta/runtime.yml"):
        assert wanted in names, wanted
    local = [n for n in names if n.split("/")[0] in (".venv", ".cache", ".ansible", ".ci", ".hypothesis", ".pytest_cache")]
    assert local == []
