"""Print one JSON document describing this node for the kubeadm role's preflight (read-only).

versions of kubeadm/kubelet/kubectl, whether admin.conf / kubelet.conf exist, the TCP ports in
LISTEN state, product_uuid, hostname; with --live and an admin.conf: whether the API answers, its
version and the names of the Nodes it knows.
"""
import json
import os
import socket
import subprocess
import sys

ADMIN = "/etc/kubernetes/admin.conf"


def run(argv, timeout=20):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def version(argv, key=None):
    code, out, _err = run(argv)
    if code != 0:
        return ""
    if key:
        try:
            return json.loads(out)[key]["gitVersion"]
        except (ValueError, KeyError, TypeError):
            return ""
    return out.strip().split()[-1] if out.strip() else ""


def listening():
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name, encoding="ascii") as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if fields[3] == "0A":  # TCP_LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return sorted(ports)


def live():
    code, out, err = run(["kubectl", "--kubeconfig", ADMIN, "--request-timeout=10s", "version", "-o", "json"])
    if code != 0:
        return {"ok": False, "error": (err or out).strip()[-300:]}
    try:
        server = json.loads(out)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        return {"ok": False, "error": "kubectl version printed no serverVersion"}
    code, out, err = run(["kubectl", "--kubeconfig", ADMIN, "--request-timeout=10s", "get", "nodes",
                          "-o", "jsonpath={.items[*].metadata.name}"])
    if code != 0:
        return {"ok": False, "error": (err or out).strip()[-300:]}
    return {"ok": True, "server_version": server, "nodes": sorted(out.split())}


def main():
    try:
        with open("/sys/class/dmi/id/product_uuid", encoding="ascii") as handle:
            uuid = handle.read().strip()
    except OSError:
        uuid = ""
    state = {
        "hostname": socket.gethostname(),
        "product_uuid": uuid,
        "versions": {
            "kubeadm": version(["kubeadm", "version", "-o", "short"]),
            "kubelet": version(["kubelet", "--version"]),
            "kubectl": version(["kubectl", "version", "--client", "-o", "json"], "clientVersion"),
        },
        "admin_conf": os.path.exists(ADMIN),
        "kubelet_conf": os.path.exists("/etc/kubernetes/kubelet.conf"),
        "listening": listening(),
        "live": {},
    }
    if "--live" in sys.argv[1:] and state["admin_conf"]:
        state["live"] = live()
    json.dump(state, sys.stdout)


if __name__ == "__main__":
    main()
