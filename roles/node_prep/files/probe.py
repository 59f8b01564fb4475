"""node_prep's one read-only look at a node, printed as JSON: what preflight judges and what the
later steps need to stay idempotent without more round trips (swap, modules, sysctls, packages)."""
import json
import os
import socket
import subprocess
import sys

SYSCTLS = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else []
MODULES = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else []
PACKAGES = ["kubelet", "kubeadm", "kubectl", "cri-tools", "kubernetes-cni", "containerd", "chrony"]


def read(path, default=""):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return default


def run(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def listening():
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in read(name).splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def default_interface():
    for line in read("/proc/net/route").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            return fields[0]
    return ""


def macs():
    found, uplink = [], default_interface()
    for name in sorted(os.listdir("/sys/class/net")):
        if name == "lo":
            continue
        if os.path.exists(f"/sys/class/net/{name}/device") or name == uplink:
            mac = read(f"/sys/class/net/{name}/address")
            if mac and mac != "00:00:00:00:00:00":
                found.append(mac)
    return found


def module_present(name):
    """Loaded or built in. Built-in modules without parameters have no /sys/module entry, and a
    container has no modules.builtin of the running kernel: overlay and br_netfilter are then known
    by what they provide (the overlay filesystem, the net.bridge sysctls)."""
    if os.path.isdir("/sys/module/" + name) or any(
            line.split()[0] == name for line in read("/proc/modules").splitlines() if line.split()):
        return True
    builtin = read(f"/lib/modules/{os.uname().release}/modules.builtin")
    if any(line.rsplit("/", 1)[-1] == name + ".ko" for line in builtin.splitlines()):
        return True
    if name == "overlay":
        return any(line.split()[-1] == "overlay" for line in read("/proc/filesystems").splitlines() if line.split())
    if name == "br_netfilter":
        return os.path.isdir("/proc/sys/net/bridge")
    return False


def sysctl(key):
    path = "/proc/sys/" + key.replace(".", "/")
    return {"value": read(path, None), "writable": os.access(path, os.W_OK)}


def installed():
    out = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev} ${Version}\\n", *PACKAGES])
    versions = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("ii"):
            versions[parts[0]] = parts[2]
    return versions


def swap_units():
    out = run(["systemctl", "list-units", "--type=swap", "--all", "--plain", "--no-legend", "--no-pager"])
    return sorted(line.split()[0] for line in out.splitlines() if line.split())


def main():
    container = run(["systemd-detect-virt", "--container"])
    meminfo = dict(line.split(":", 1) for line in read("/proc/meminfo").splitlines() if ":" in line)
    print(json.dumps({
        "hostname": socket.gethostname(),
        "machine_id": read("/etc/machine-id"),
        "product_uuid": read("/sys/class/dmi/id/product_uuid"),
        "macs": macs(),
        "container": "" if container in ("", "none") else container,
        "arch": run(["dpkg", "--print-architecture"]),
        "cpus": os.cpu_count() or 0,
        "memory_mb": int(meminfo.get("MemTotal", "0 kB").split()[0]) // 1024,
        "swaps": [line.split()[0] for line in read("/proc/swaps").splitlines()[1:] if line.split()],
        "swap_units": swap_units(),
        "listening": listening(),
        "joined": os.path.exists("/etc/kubernetes/kubelet.conf"),
        "containerd_installed": any(os.path.exists(p) for p in ("/usr/local/bin/containerd", "/usr/bin/containerd")),
        "keyring": os.path.exists("/etc/apt/keyrings/kubernetes-apt-keyring.gpg"),
        "modules": {name: module_present(name) for name in MODULES},
        "sysctls": {key: sysctl(key) for key in SYSCTLS},
        "installed": installed(),
    }, sort_keys=True))


main()
