"""Build what the jenkins scenario serves instead of pkg.jenkins.io and updates.jenkins.io (TEST ONLY).

1. A copy of the layout of Jenkins' stable apt repository (debian-stable/: a flat repository, suite binary/,
   Packages, Release, InRelease and Release.gpg signed by a gpg key made here, the armored key as
   jenkins.io-2026.key) holding stand-in `jenkins` packages at two LTS versions (2.541.2 and 2.541.3), so pinning
   has a choice to make. The package ships what the real one does where our role touches it: /usr/bin/jenkins
   (here a wrapper that checks for a supported Java, as the real one does, then runs jenkins_standin.py),
   jenkins.service (User=jenkins, JENKINS_HOME, JENKINS_PORT=8080, JAVA_OPTS) and a maintainer script that keeps
   an existing jenkins user and enables and starts the service.
2. An update center (update-center.json in the update-center.actual.json form) listing stand-in plugins whose .hpi
   files carry a real MANIFEST.MF (Short-Name, Plugin-Version, Jenkins-Version, Plugin-Dependencies), their
   SHA-256 in base64 as the update center gives it, and one plugin that needs a newer core.

    build_repo.py OUTDIR     # OUTDIR/debian-stable/..., OUTDIR/uc/...
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS = ("2.541.2", "2.541.3")
WRAPPER = r"""#!/bin/sh
# TEST STAND-IN /usr/bin/jenkins {version} (molecule/jenkins). As the real wrapper: a supported Java or nothing.
java=$(command -v java) || {{ echo "jenkins: failed to find a valid Java installation" >&2; exit 1; }}
major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
case "$major" in
  17|21|25) ;;
  *) echo "jenkins: Java $major is not supported by Jenkins {version} (17, 21 or 25)" >&2; exit 1 ;;
esac
STANDIN_JENKINS_VERSION={version} exec /usr/bin/python3 /usr/share/jenkins/jenkins_standin.py
"""
UNIT = """[Unit]
Description=Jenkins Continuous Integration Server (TEST STAND-IN {version}, molecule/jenkins)
Requires=network.target
After=network.target

[Service]
Type=simple
User=jenkins
Group=jenkins
Environment="JENKINS_HOME=/var/lib/jenkins"
WorkingDirectory=/var/lib/jenkins
Environment="JENKINS_PORT=8080"
Environment="JAVA_OPTS=-Djava.awt.headless=true"
ExecStart=/usr/bin/jenkins
Restart=on-failure
RestartSec=2
SuccessExitStatus=143

[Install]
WantedBy=multi-user.target
"""
POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group jenkins >/dev/null || addgroup --system --quiet jenkins
  id jenkins >/dev/null 2>&1 || adduser --system --quiet --home /var/lib/jenkins --no-create-home --ingroup jenkins \
    --disabled-password --shell /bin/bash jenkins
  mkdir -p /var/lib/jenkins /var/cache/jenkins
  chown jenkins:jenkins /var/lib/jenkins /var/cache/jenkins
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    systemctl enable jenkins.service >/dev/null 2>&1 || true
    systemctl start jenkins.service >/dev/null || true
  fi
fi
"""
PRERM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then systemctl stop jenkins.service >/dev/null || true; fi
"""
PLUGINS = {
    # name: (version, requiredCore, [(dependency, version, optional)])
    "configuration-as-code": ("1971.vf9280461ea_89", "2.479.3", [
        ("snakeyaml-api", "2.3-125.v4d77857a_b_402", False),
        ("caffeine-api", "3.1.8-133.v17b_1ff2e0599", False),
        ("prism-api", "1.29.0-17", True)]),
    "snakeyaml-api": ("2.3-125.v4d77857a_b_402", "2.479.1", []),
    "caffeine-api": ("3.1.8-133.v17b_1ff2e0599", "2.479.1", []),
    "prism-api": ("1.29.0-17", "2.479.1", []),
    "matrix-auth": ("3.2.9", "2.555.1", []),
}


def run(*argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw).stdout


def deb(base: Path, version: str, arch: str = "all") -> None:
    root = base.parent / "build" / f"jenkins_{version}"
    shutil.rmtree(root, ignore_errors=True)
    files = {
        "usr/bin/jenkins": (WRAPPER.format(version=version), 0o755),
        "usr/share/jenkins/jenkins_standin.py": ((HERE / "jenkins_standin.py").read_text(), 0o644),
        "lib/systemd/system/jenkins.service": (UNIT.format(version=version), 0o644),
        "DEBIAN/postinst": (POSTINST, 0o755),
        "DEBIAN/prerm": (PRERM, 0o755),
        "DEBIAN/control": (f"Package: jenkins\nVersion: {version}\nArchitecture: {arch}\nMaintainer: msa.platform tests\n"
                           "Depends: adduser, python3, python3-yaml\nSection: devel\nPriority: optional\n"
                           f"Description: TEST STAND-IN Jenkins {version} (molecule/jenkins)\n", 0o644),
    }
    for path, (text, mode) in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(base / "binary" / f"jenkins_{version}_{arch}.deb"))


def repo(out: Path) -> None:
    base = out / "debian-stable"
    (base / "binary").mkdir(parents=True)
    for version in VERSIONS:
        deb(base, version)
    packages = run("dpkg-scanpackages", "--multiversion", "binary", "/dev/null", cwd=base)
    (base / "binary" / "Packages").write_text(packages)
    (base / "binary" / "Packages.gz").write_bytes(gzip.compress(packages.encode(), mtime=0))
    lines = ["Origin: msa-test", "Label: TEST STAND-IN of pkg.jenkins.io debian-stable", "Suite: binary",
             "Date: Thu, 01 Jan 2026 00:00:00 UTC"]
    for algo, header in (("md5", "MD5Sum"), ("sha256", "SHA256")):
        lines.append(header + ":")
        for name in ("Packages", "Packages.gz"):
            data = (base / "binary" / name).read_bytes()
            lines.append(f" {hashlib.new(algo, data).hexdigest()} {len(data)} {name}")
    (base / "binary" / "Release").write_text("\n".join(lines) + "\n")
    home = out / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", ""]
    run(*gpg, "--quick-gen-key", "msa test Jenkins repository <test@msa.invalid>", "ed25519", "sign", "never")
    run(*gpg, "--clearsign", "--output", str(base / "binary" / "InRelease"), str(base / "binary" / "Release"))
    run(*gpg, "--armor", "--detach-sign", "--output", str(base / "binary" / "Release.gpg"), str(base / "binary" / "Release"))
    run(*gpg, "--armor", "--output", str(base / "jenkins.io-2026.key"), "--export")


def update_center(out: Path) -> None:
    uc = out / "uc"
    (uc / "plugins").mkdir(parents=True)
    entries = {}
    for name, (version, core, deps) in PLUGINS.items():
        manifest = (f"Manifest-Version: 1.0\r\nShort-Name: {name}\r\nPlugin-Version: {version}\r\nJenkins-Version: {core}\r\n"
                    f"Long-Name: TEST STAND-IN {name}\r\n")
        if deps:
            manifest += "Plugin-Dependencies: " + ",".join(
                f"{d}:{v}" + (";resolution:=optional" if opt else "") for d, v, opt in deps) + "\r\n"
        path = uc / "plugins" / f"{name}.hpi"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", date_time=(2026, 1, 1, 0, 0, 0)), manifest)
        digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
        entries[name] = {"name": name, "version": version, "requiredCore": core, "url": path.as_uri(), "sha256": digest,
                         "dependencies": [{"name": d, "version": v, "optional": opt} for d, v, opt in deps]}
    center = {"updateCenterVersion": "1", "core": {"version": VERSIONS[-1]}, "plugins": entries}
    (uc / "update-center.json").write_text(json.dumps(center, indent=1))


def main() -> int:
    out = Path(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    repo(out)
    update_center(out)
    shutil.rmtree(out / "build")
    for path in [out, *out.rglob("*")]:
        if path.name != "gnupg" and "gnupg" not in path.parts:
            path.chmod(0o755 if path.is_dir() else 0o644)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
