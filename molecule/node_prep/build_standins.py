"""Build what the node_prep scenario serves instead of the Internet, on the controller:

1. A local copy of the per-minor pkgs.k8s.io repository layout (a flat apt repository:
   Packages, Release, InRelease signed with a gpg key made here, Release.key armored), holding
   stand-in .debs of kubelet/kubeadm/kubectl at two patches (1.37.1-1.1 and 1.37.2-1.1), cri-tools
   (the crictl stand-in, which talks real CRI gRPC) and kubernetes-cni.
2. Release archives laid out as the upstream containerd / runc / CNI plugins releases, made from
   Debian bookworm's own containerd 1.6, runc and containernetworking-plugins binaries (real
   programs), so the role's release path runs real containerd.

    build_standins.py OUTDIR [DEBIAN_CACHE]   # DEBIAN_CACHE keeps the downloaded Debian .debs
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MINOR = "1.37"
PATCHES = ["1.37.1", "1.37.2"]

TOOL = """#!/bin/sh
# Stand-in {name} {version} (msa.platform molecule node_prep): the real binary is not obtainable here.
# It only answers the version query the tests make; anything else fails loudly.
case "$*" in
  "--version"|"version --client"|"version -o short"|"version --client -o yaml") echo "{answer}" ;;
  *) echo "{name} stand-in: unsupported arguments: $*" >&2; exit 2 ;;
esac
"""
ANSWERS = {"kubelet": "Kubernetes v{v}", "kubeadm": "v{v}", "kubectl": "Client Version: v{v}"}


def run(*argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw).stdout


def deb(out: Path, name: str, version: str, files: dict[str, tuple[str | bytes, int]], depends: str = "") -> Path:
    root = out / "build" / f"{name}_{version}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "DEBIAN").mkdir(parents=True)
    control = (f"Package: {name}\nVersion: {version}\nArchitecture: {ARCH}\nMaintainer: msa.platform tests\n"
               f"Section: admin\nPriority: optional\n")
    if depends:
        control += f"Depends: {depends}\n"
    control += f"Description: stand-in {name} for the node_prep molecule scenario\n"
    (root / "DEBIAN" / "control").write_text(control)
    for path, (content, mode) in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        target.chmod(mode)
    pool = out / "repo" / "deb" / ARCH
    pool.mkdir(parents=True, exist_ok=True)
    path = pool / f"{name}_{version}_{ARCH}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(path))
    return path


def repo(out: Path) -> None:
    base = out / "repo" / "deb"
    for patch in PATCHES:
        version = f"{patch}-1.1"
        for name in ("kubelet", "kubectl"):
            deb(out, name, version, {f"/usr/bin/{name}": (TOOL.format(name=name, version=patch,
                answer=ANSWERS[name].format(v=patch)), 0o755)})
        deb(out, "kubeadm", version, {"/usr/bin/kubeadm": (TOOL.format(name="kubeadm", version=patch,
            answer=ANSWERS["kubeadm"].format(v=patch)), 0o755)},
            depends="kubelet (>= 1.37.0), kubectl (>= 1.37.0), cri-tools (>= 1.37.0)")
    deb(out, "cri-tools", "1.37.0-1.1",
        {"/usr/bin/crictl": ("#!/usr/bin/python3\n" + (HERE / "crictl_standin.py").read_text(), 0o755)},
        depends="python3, python3-grpcio")
    deb(out, "kubernetes-cni", "1.8.0-1.1",
        {"/usr/share/doc/kubernetes-cni/README.stand-in": ("stand-in kubernetes-cni: no plugins\n", 0o644)})
    packages = run("dpkg-scanpackages", "--multiversion", ".", "/dev/null", cwd=base)
    (base / "Packages").write_text(packages)
    (base / "Packages.gz").write_bytes(gzip.compress(packages.encode(), mtime=0))
    lines = ["Origin: msa-test", "Label: msa-test stand-in of pkgs.k8s.io", "Architectures: " + ARCH,
             "Date: Thu, 01 Jan 2026 00:00:00 UTC"]
    for algo, header in (("md5", "MD5Sum"), ("sha256", "SHA256")):
        lines.append(header + ":")
        for name in ("Packages", "Packages.gz"):
            data = (base / name).read_bytes()
            lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data)} {name}")
    (base / "Release").write_text("\n".join(lines) + "\n")
    home = out / "gnupg"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", ""]
    run(*gpg, "--quick-gen-key", "msa test repository <test@msa.invalid>", "ed25519", "sign", "never")
    for name in ("InRelease", "Release.gpg", "Release.key"):
        (base / name).unlink(missing_ok=True)
    run(*gpg, "--clearsign", "--output", str(base / "InRelease"), str(base / "Release"))
    run(*gpg, "--armor", "--detach-sign", "--output", str(base / "Release.gpg"), str(base / "Release"))
    run(*gpg, "--armor", "--output", str(base / "Release.key"), "--export")


def releases(out: Path, work: Path) -> None:
    """containerd / runc / CNI plugins archives in the upstream layout, from Debian's binaries."""
    work.mkdir(parents=True, exist_ok=True)
    for package in ("containerd", "runc", "containernetworking-plugins"):
        if not list(work.glob(f"{package}_*.deb")):
            run("apt-get", "download", package, cwd=work)
        tree = work / package
        if not tree.exists():
            run("dpkg-deb", "-x", str(next(work.glob(f"{package}_*.deb"))), str(tree))
    rel = out / "releases"
    rel.mkdir(exist_ok=True)
    with tarfile.open(rel / f"containerd-1.6.20-linux-{ARCH}.tar.gz", "w:gz") as tar:
        for binary in ("containerd", "containerd-shim-runc-v2", "ctr"):
            tar.add(work / "containerd" / "usr" / "bin" / binary, arcname=f"bin/{binary}")
    with tarfile.open(rel / f"cni-plugins-linux-{ARCH}-v1.1.1.tgz", "w:gz") as tar:
        for plugin in sorted((work / "containernetworking-plugins" / "usr" / "lib" / "cni").iterdir()):
            tar.add(plugin, arcname=f"./{plugin.name}")
    shutil.copy(work / "runc" / "usr" / "sbin" / "runc", rel / f"runc.{ARCH}")
    with open(rel / "SHA256SUMS", "w", encoding="utf-8") as sums:
        for item in sorted(rel.iterdir()):
            if item.name != "SHA256SUMS":
                sums.write(f"{hashlib.sha256(item.read_bytes()).hexdigest()}  {item.name}\n")


if __name__ == "__main__":
    ARCH = run("dpkg", "--print-architecture").strip()
    target = Path(sys.argv[1])
    shutil.rmtree(target / "repo", ignore_errors=True)
    shutil.rmtree(target / "releases", ignore_errors=True)
    # The controller cache of an earlier run holds archives of an earlier build (other checksums).
    shutil.rmtree(target / "cache", ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    repo(target)
    releases(target, Path(sys.argv[2]) if len(sys.argv) > 2 else target / "debian")
    for dirpath, _dirnames, filenames in os.walk(target / "repo"):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    with tarfile.open(target / "repo.tar", "w") as tar:
        tar.add(target / "repo" / "deb", arcname=".")
    print(target)
