"""Build the stand-in Kubernetes .debs of the kubeadm scenario on the controller (TEST ONLY).

kubeadm, kubelet and kubectl at two patches of two minors (1.36.4-1.1 and 1.37.2-1.1): each ships
/usr/bin/<tool>, a wrapper that runs /usr/local/lib/kube_standin.py with that package's version, so
the version a node reports is the version dpkg installed, and an upgrade is a real apt/dpkg upgrade
(holds included). kubelet also ships kubelet.service (it runs nothing: no kubelet can be had here), so
restarting it is a real systemd restart.

    build_debs.py OUTDIR     # writes OUTDIR/<name>_<version>_<arch>.deb
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

VERSIONS = ("1.36.4", "1.37.2")
WRAPPER = '#!/bin/sh\nSTANDIN_KUBE_VERSION=v{version} exec /usr/bin/python3 /usr/local/lib/kube_standin.py {name} "$@"\n'
UNIT = """[Unit]
Description=TEST STAND-IN kubelet {version} (molecule/kubeadm: no kubelet runs)
[Service]
ExecStart=/bin/sleep infinity
Restart=always
[Install]
WantedBy=multi-user.target
"""


def build(out: Path, name: str, version: str, arch: str) -> Path:
    root = out / "build" / f"{name}_{version}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}-1.1\nArchitecture: {arch}\nMaintainer: msa.platform tests\n"
        f"Section: admin\nPriority: optional\nDescription: TEST STAND-IN {name} {version} (molecule/kubeadm)\n")
    tool = root / "usr" / "bin" / name
    tool.parent.mkdir(parents=True)
    tool.write_text(WRAPPER.format(version=version, name=name))
    tool.chmod(0o755)
    if name == "kubelet":
        unit = root / "lib" / "systemd" / "system" / "kubelet.service"
        unit.parent.mkdir(parents=True)
        unit.write_text(UNIT.format(version=version))
    path = out / f"{name}_{version}-1.1_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(path)],
                   check=True, capture_output=True)
    return path


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True, text=True).stdout.strip()
    for version in VERSIONS:
        for name in ("kubeadm", "kubelet", "kubectl"):
            print(build(out, name, version, arch))
    shutil.rmtree(out / "build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
