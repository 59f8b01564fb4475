"""Local Debian test hosts that boot real systemd: systemd-nspawn over overlays of one rootfs.

    scripts/testhosts.py rootfs                          # debootstrap bookworm once (cached)
    scripts/testhosts.py net-up   [--bridge B --cidr C]  # bridge + apt-cacher-ng on it
    scripts/testhosts.py up NAME=IP [NAME=IP ...]        # boot hosts in parallel, wait for sshd
    scripts/testhosts.py down NAME [NAME ...] | --all    # stop by PID, unmount, forget
    scripts/testhosts.py net-down [--bridge B]
    scripts/testhosts.py list                            # JSON: hosts, addresses, pids
    scripts/testhosts.py sync --platform P --endpoint URL --region R
                                # a host per running EC2 instance of P in the emulator, at its private IP

Every host gets a static address on a bridge this harness creates, an SSH key of the harness, and an
apt proxy (apt-cacher-ng on the bridge address) so it installs Debian packages through the machine.
Before an address or route is added, the range is checked against every route the machine already
has; an overlap is refused, so test traffic never leaves through the machine's own uplink.
Everything lives under .cache/ of the checkout and is torn down by PID and name (machinectl cannot
be used here: PID 1 is not systemd).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
HOSTS = CACHE / "testhosts"
ACNG = CACHE / "apt-cacher-ng"
SSH_KEY = CACHE / "ssh" / "id_ed25519"

SUITE = "bookworm"
MIRROR = os.environ.get("MSA_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What every test host has before any role runs: what a fresh Debian EC2 image has, roughly.
ROOTFS_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "python3", "python3-apt",
    "iproute2", "iputils-ping", "sudo", "ca-certificates", "gnupg", "curl", "procps", "less", "locales",
]
# Bump when _configure_rootfs changes: the cached rootfs is keyed on packages and this revision.
ROOTFS_REVISION = "2"
ROOTFS = CACHE / "rootfs" / (SUITE + "-" + hashlib.sha256(
    " ".join([*ROOTFS_PACKAGES, "rev" + ROOTFS_REVISION]).encode()).hexdigest()[:10])
# Units a test host must not run: they cannot work in a container, or they are maintenance jobs
# (apt-daily, fstrim, e2scrub, ...) that would fire at a random moment mid-test and change the
# host under the test (apt locks, a failed unit turning `is-system-running` into "degraded").
MASKED_UNITS = (
    "systemd-networkd-wait-online.service", "e2scrub_reap.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
    "fstrim.timer", "getty@tty1.service",
)

# Each host's systemd gets a cgroup of its own (see cgroup_dirs), under this name.
CGROUP_GROUP = "msa-testhosts"

DEFAULT_BRIDGE = os.environ.get("MSA_TESTHOSTS_BRIDGE", "msabr0")
DEFAULT_CIDR = os.environ.get("MSA_TESTHOSTS_CIDR", "10.213.0.1/24")
ACNG_PORT = 3142
INOTIFY_KNOB = Path("/proc/sys/fs/inotify/max_user_instances")
INOTIFY_INSTANCES = 1024


class HarnessError(Exception):
    """Something the caller must fix; the message says what."""


def run(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


def log(msg: str) -> None:
    print(f"[testhosts] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- rootfs
def build_rootfs(force: bool = False) -> Path:
    """debootstrap the shared read-only lower layer once; later calls reuse it."""
    done = ROOTFS / ".msa-complete"
    if done.exists() and not force:
        return ROOTFS
    for tool in ("debootstrap", "systemd-nspawn"):
        if not shutil.which(tool):
            raise HarnessError(f"{tool} is not installed: run scripts/setup.sh (apt: debootstrap systemd-container)")
    tmp = ROOTFS.with_name(ROOTFS.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    log(f"debootstrap {SUITE} into {ROOTFS} (once, ~1-2 min)")
    started = time.monotonic()
    proc = run(["debootstrap", "--variant=minbase", "--include=" + ",".join(ROOTFS_PACKAGES),
                SUITE, str(tmp), MIRROR], check=False)
    if proc.returncode != 0:
        raise HarnessError(f"debootstrap failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    _configure_rootfs(tmp)
    (tmp / ".msa-complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    shutil.rmtree(ROOTFS, ignore_errors=True)
    tmp.rename(ROOTFS)
    for stale in ROOTFS.parent.iterdir():  # rootfs of older package lists or revisions
        if stale != ROOTFS and not stale.name.endswith(".tmp"):
            shutil.rmtree(stale, ignore_errors=True)
    log(f"rootfs ready in {time.monotonic() - started:.0f}s")
    return ROOTFS


def _configure_rootfs(path: Path) -> None:
    run(["chroot", str(path), "systemctl", "enable", "systemd-networkd", "ssh"])
    run(["chroot", str(path), "systemctl", "mask", *MASKED_UNITS])
    # Each host gets its own machine-id at first boot.
    (path / "etc" / "machine-id").write_text("")
    (path / "etc" / "apt" / "sources.list").write_text(
        f"deb {MIRROR} {SUITE} main\n"
        f"deb {MIRROR} {SUITE}-updates main\n"
        f"deb http://deb.debian.org/debian-security {SUITE}-security main\n"
    )
    (path / "etc" / "locale.gen").write_text("en_US.UTF-8 UTF-8\n")
    run(["chroot", str(path), "locale-gen"], check=False)
    sshd = path / "etc" / "ssh" / "sshd_config.d" / "msa-testhost.conf"
    sshd.write_text("PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n")
    # Host keys are generated per host at boot (the overlay keeps them apart).
    for key in (path / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()
    unit = path / "etc" / "systemd" / "system" / "msa-ssh-hostkeys.service"
    unit.write_text(
        "[Unit]\nDescription=Generate SSH host keys\nBefore=ssh.service\n"
        "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n\n"
        "[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    run(["chroot", str(path), "systemctl", "enable", "msa-ssh-hostkeys.service"])


# --------------------------------------------------------------------------- network
def _machine_routes() -> list[tuple[str, ipaddress.IPv4Network]]:
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout or "[]")
    nets = []
    for route in routes:
        dst = route.get("dst", "")
        if route.get("type") in ("local", "broadcast") or dst in ("", "default"):
            continue
        try:
            nets.append((route.get("dev", "?"), ipaddress.ip_network(dst, strict=False)))
        except ValueError:
            continue
    return nets


def check_range_free(cidr: ipaddress.IPv4Network, bridge: str) -> None:
    """Refuse a range that overlaps anything the machine routes, except our own bridge."""
    for dev, net in _machine_routes():
        if dev != bridge and net.overlaps(cidr):
            raise HarnessError(
                f"{cidr} overlaps {net} routed via {dev} on this machine; refusing to add it. "
                f"Pick another range (MSA_TESTHOSTS_CIDR / --cidr)."
            )


def _link_exists(name: str) -> bool:
    return run(["ip", "link", "show", name], check=False).returncode == 0


def net_up(bridge: str = DEFAULT_BRIDGE, cidr: str = DEFAULT_CIDR) -> dict:
    iface = ipaddress.ip_interface(cidr)
    if iface.ip == iface.network.network_address:
        raise HarnessError(f"--cidr {cidr}: give the bridge's own address, e.g. {iface.network[1]}/{iface.network.prefixlen}")
    check_range_free(iface.network, bridge)
    if not _link_exists(bridge):
        run(["ip", "link", "add", bridge, "type", "bridge"])
    addrs = json.loads(run(["ip", "-j", "-4", "addr", "show", "dev", bridge]).stdout or "[]")
    have = {f"{a['local']}/{a['prefixlen']}" for entry in addrs for a in entry.get("addr_info", [])}
    if str(iface) not in have:
        run(["ip", "addr", "add", str(iface), "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])
    _acng_up(str(iface.ip))
    return {"bridge": bridge, "address": str(iface), "apt_proxy": f"http://{iface.ip}:{ACNG_PORT}"}


def _acng_up(address: str) -> None:
    """apt-cacher-ng bound to the bridge address only, its cache kept under .cache/."""
    conf = ACNG / address / "conf"
    pidfile = ACNG / address / "pid"
    if _pid_alive(pidfile) and _port_open(address, ACNG_PORT):
        return
    if not shutil.which("apt-cacher-ng") and not Path("/usr/sbin/apt-cacher-ng").exists():
        raise HarnessError("apt-cacher-ng is not installed: run scripts/setup.sh")
    for sub in ("conf", "log"):
        (ACNG / address / sub).mkdir(parents=True, exist_ok=True)
    (ACNG / "cache").mkdir(parents=True, exist_ok=True)
    # Debian's default backend list names a mirror we cannot reach and answers 503: use ours.
    (conf / "backends_debian").write_text(MIRROR.rstrip("/") + "/\n")
    (conf / "acng.conf").write_text(
        f"CacheDir: {ACNG / 'cache'}\nLogDir: {ACNG / address / 'log'}\nSupportDir: /usr/lib/apt-cacher-ng\n"
        f"Port: {ACNG_PORT}\nBindAddress: {address}\n"
        "Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian\n"
        "Remap-secdeb: security.debian.org deb.debian.org/debian-security /debian-security ; deb.debian.org/debian-security\n"
        "ExThreshold: 4\nPassThroughPattern: ^$\n"
    )
    with open(ACNG / address / "log" / "stdout.log", "ab") as out:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["/usr/sbin/apt-cacher-ng", "-c", str(conf), "ForeGround=1",
             f"pidfile={pidfile}", f"SocketPath={ACNG / address / 'sock'}"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    pidfile.write_text(str(proc.pid))
    _wait_port(address, ACNG_PORT, 10, what="apt-cacher-ng")


def net_down(bridge: str = DEFAULT_BRIDGE) -> None:
    if any(h.bridge == bridge for h in hosts()):
        raise HarnessError(f"hosts still run on {bridge}: `down --all` first")
    if _link_exists(bridge):
        addrs = json.loads(run(["ip", "-j", "-4", "addr", "show", "dev", bridge]).stdout or "[]")
        for entry in addrs:
            for a in entry.get("addr_info", []):
                _kill_pidfile(ACNG / a["local"] / "pid")
        run(["ip", "link", "del", bridge])


# --------------------------------------------------------------------------- hosts
@dataclass
class Host:
    name: str
    address: str  # ip/prefix
    bridge: str
    pid: int | None
    meta: dict = field(default_factory=dict)  # what `sync` records: platform, checkout, instance id

    @property
    def ip(self) -> str:
        return self.address.split("/", 1)[0]

    def as_dict(self) -> dict:
        return {"name": self.name, "ip": self.ip, "address": self.address, "bridge": self.bridge,
                "pid": self.pid, "running": self.pid is not None, "ssh_key": str(SSH_KEY), "user": "root",
                **({"instance_id": self.meta["instance_id"]} if "instance_id" in self.meta else {})}


def _host_dir(name: str) -> Path:
    return HOSTS / name


def hosts() -> list[Host]:
    found = []
    for meta in sorted(HOSTS.glob("*/host.json")):
        data = json.loads(meta.read_text())
        pid = _read_pid(meta.parent / "pid")
        extra = {k: v for k, v in data.items() if k not in ("name", "address", "bridge")}
        found.append(Host(data["name"], data["address"], data["bridge"], pid, extra))
    return found


def ssh_key() -> Path:
    if not SSH_KEY.exists():
        SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "msa-testhosts", "-f", str(SSH_KEY)])
    return SSH_KEY


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 40 and all(c.isalnum() or c == "-" for c in name) and name[0].isalnum()


def _prepare(name: str, address: str, bridge: str, gateway: str, proxy: str, meta: dict | None = None) -> Path:
    base = _host_dir(name)
    merged = base / "merged"
    if _is_mounted(merged):
        run(["umount", str(merged)])
    shutil.rmtree(base, ignore_errors=True)
    for sub in ("upper", "work", "merged"):
        (base / sub).mkdir(parents=True)
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={ROOTFS},upperdir={base / 'upper'},workdir={base / 'work'}", str(merged)])
    (merged / "etc" / "hostname").write_text(name + "\n")
    # A machine-id of its own, as every EC2 instance has: left empty, systemd gave every container of
    # this machine the same one (kubelet and node_prep's preflight rely on it being unique).
    (merged / "etc" / "machine-id").write_text(uuid.uuid4().hex + "\n")
    (merged / "etc" / "hosts").write_text(f"127.0.0.1 localhost\n{address.split('/')[0]} {name}\n")
    # Sorts before the 80-container-host0.network that systemd ships, which would win otherwise.
    (merged / "etc" / "systemd" / "network" / "10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={address}\nGateway={gateway}\nLinkLocalAddressing=no\n"
    )
    (merged / "etc" / "apt" / "apt.conf.d" / "01msa-proxy").write_text(f'Acquire::http::Proxy "{proxy}";\n')
    ssh_dir = merged / "root" / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(Path(str(ssh_key()) + ".pub").read_text())
    (base / "host.json").write_text(json.dumps({**(meta or {}), "name": name, "address": address, "bridge": bridge}))
    return merged


def cgroup_dirs(name: str) -> list[Path]:
    """The host's own cgroup in each hierarchy its systemd manages (name=systemd v1, cgroup2).

    With --keep-unit and --register=no, systemd-nspawn runs the container in the cgroup it was
    started in. Hosts started from one process would share it, so their systemd instances would
    create and remove the same unit cgroups (system.slice/<unit>.service): under load an early
    unit then fails with status 219/CGROUP and the host boots "degraded".
    """
    mine: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as own:
        for line in own:
            controllers, path = line.rstrip("\n").split(":", 2)[1:]
            mine[controllers] = path
    dirs = []
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            point, fstype, options = line.split()[1:4]
            if fstype == "cgroup2" and "" in mine:
                current = mine[""]
            elif fstype == "cgroup" and "name=systemd" in options.split(",") and "name=systemd" in mine:
                current = mine["name=systemd"]
            else:
                continue
            dirs.append(Path(point) / current.lstrip("/") / CGROUP_GROUP / name)
    return dirs


def _own_cgroups(name: str) -> list[Path]:
    """Fresh, empty cgroups for the host (see cgroup_dirs)."""
    dirs = cgroup_dirs(name)
    for path in dirs:
        _remove_cgroup(path)
        path.mkdir(parents=True, exist_ok=True)
    return dirs


def _remove_cgroup(path: Path) -> None:
    """rmdir a cgroup and the ones its systemd left under it, deepest first (empty ones only)."""
    if not path.is_dir():
        return
    for sub in sorted((entry[0] for entry in os.walk(path)), key=len, reverse=True):
        try:
            os.rmdir(sub)
        except OSError:
            pass


# The tun device, for hosts that run OpenVPN (molecule/vpn); absent on machines without it.
_TUN = ["--bind=/dev/net/tun"] if Path("/dev/net/tun").exists() else []


def _boot(name: str, merged: Path, bridge: str) -> int:
    base = _host_dir(name)
    # The shell joins the host's own cgroups, then becomes systemd-nspawn (same PID).
    join = ('while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || { echo "testhosts: cannot join $1" >&2; exit 125; }; '
            'shift; done; shift; exec "$@"')
    with open(base / "console.log", "ab") as out:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["sh", "-c", join, "sh", *map(str, _own_cgroups(name)), "--",
             "systemd-nspawn", "-b", "-D", str(merged), "--register=no", "--keep-unit",
             f"--network-bridge={bridge}", "-M", name, "--capability=all",
             "--system-call-filter=@keyring bpf", "--resolv-conf=off", "--timezone=off", *_TUN],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    (base / "pid").write_text(str(proc.pid))
    return proc.pid


def inotify_room(knob: Path = INOTIFY_KNOB) -> None:
    """Give the hosts' systemd enough inotify instances (each holds several). Linux allows 128 per user by default:
    near twenty hosts on the machine, the next host's systemd exits at boot ("Failed to allocate manager object:
    Too many open files") and the host never answers. Raised to INOTIFY_INSTANCES, never lowered."""
    try:
        current = int(knob.read_text())
    except (OSError, ValueError):
        return
    if current >= INOTIFY_INSTANCES:
        return
    try:
        knob.write_text(f"{INOTIFY_INSTANCES}\n")
    except OSError as exc:
        raise HarnessError(f"{knob} is {current}, too few for many test hosts, and cannot be raised here ({exc}): "
                           f"sysctl -w fs.inotify.max_user_instances={INOTIFY_INSTANCES}") from exc
    log(f"fs.inotify.max_user_instances raised from {current} to {INOTIFY_INSTANCES} (systemd in each host needs several)")


def up(specs: list[tuple[str, str]], bridge: str = DEFAULT_BRIDGE, cidr: str = DEFAULT_CIDR,
       timeout: float = 60.0, meta: dict[str, dict] | None = None) -> list[dict]:
    """Boot hosts NAME=IP in parallel; return them once sshd answers on each. Bad specs are refused first,
    before the bridge or its apt proxy is touched."""
    iface = ipaddress.ip_interface(cidr)
    for name, ip in specs:
        if not _valid_name(name):
            raise HarnessError(f"host name {name!r}: use letters, digits and '-', at most 40 characters")
        addr = ipaddress.ip_address(ip)
        if addr not in iface.network or addr == iface.ip or addr in (iface.network.network_address, iface.network.broadcast_address):
            raise HarnessError(f"{name}={ip}: not a free host address of {iface.network} (bridge {bridge} is {iface.ip})")
    build_rootfs()
    net = net_up(bridge, cidr)
    running = {h.name: h for h in hosts() if h.pid}
    todo = []
    for name, ip in specs:
        address = f"{ip}/{iface.network.prefixlen}"
        if name in running and running[name].address == address:
            continue
        if name in running:
            down([name])
        todo.append((name, address))
    if todo:
        inotify_room()
    for name, address in todo:
        merged = _prepare(name, address, bridge, str(iface.ip), net["apt_proxy"], (meta or {}).get(name))
        _boot(name, merged, bridge)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        list(pool.map(lambda spec: _wait_ssh(spec[0], spec[1].split("/")[0], timeout), todo))
    wanted = {name for name, _dummy in specs}
    return [h.as_dict() for h in hosts() if h.name in wanted]


def down(names: list[str]) -> None:
    """Stop the hosts, all at once (each may take its grace time to power off), then unmount and forget them."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        list(pool.map(lambda name: _kill_pidfile(_host_dir(name) / "pid", grace=15.0), names))
    for name in names:
        base = _host_dir(name)
        for path in cgroup_dirs(name):
            _remove_cgroup(path)
        merged = base / "merged"
        if _is_mounted(merged):
            run(["umount", str(merged)], check=False)
            if _is_mounted(merged):
                run(["umount", "-l", str(merged)])
        shutil.rmtree(base, ignore_errors=True)


def write_instance_config(path: Path, booted: list[dict]) -> None:
    """The file molecule's default driver reads to reach each instance (JSON is valid YAML)."""
    config = [{"instance": h["name"], "address": h["ip"], "user": "root", "port": 22,
               "identity_file": h["ssh_key"]} for h in booted]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)


# --------------------------------------------------------------------------- EC2 instances as hosts
# The local default (inventories/local, make demo): every running EC2 instance the emulator reports
# for a platform becomes a host at the instance's private IP, on one bridge holding the whole VPC
# range (so every tier and AZ reaches every other, as VPC routing does). The bridge takes the VPC's
# first host address, which AWS reserves for the VPC router. Names of bridges and hosts carry a
# digest of the platform and this checkout, so other checkouts and molecule's msabr0 never collide.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
EC2_LIVE_STATES = ("pending", "running")


def platform_digest(platform: str, root: Path = ROOT) -> str:
    return hashlib.sha256(f"{root}\0{platform}".encode()).hexdigest()


def platform_bridge(platform: str, root: Path = ROOT) -> str:
    """The platform's bridge in this checkout: 11 characters (interface names stop at 15)."""
    return "msa" + platform_digest(platform, root)[:8]


def instance_host_name(instance: dict, platform: str, root: Path = ROOT) -> str:
    """<Name tag>-<4 hex>: the inventory hostname, made unique on this machine (at most 40 characters)."""
    base = (instance.get("name") or instance["id"]).lower()
    base = "".join(c if c.isalnum() or c == "-" else "-" for c in base).strip("-")[:35] or "host"
    return f"{base}-{platform_digest(platform, root)[:4]}"


def plan_sync(platform: str, instances: list[dict], vpcs: dict[str, str], current: list[Host],
              root: Path = ROOT) -> dict:
    """What `sync` does: the bridge, hosts to start (NAME, IP) and hosts to stop. Pure, unit-tested.

    instances: [{id, name, state, private_ip, vpc_id}] of the platform; vpcs: {vpc id: CIDR};
    current: the harness's hosts (hosts()).
    """
    live = sorted((i for i in instances if i.get("state") in EC2_LIVE_STATES), key=lambda i: i["id"])
    problems = [f"instance {i['id']} ({i.get('name') or 'no Name tag'}) has no private IP yet"
                for i in live if not i.get("private_ip")]
    cidrs = sorted({vpcs.get(i.get("vpc_id"), "") for i in live})
    if "" in cidrs:
        problems.append("an instance's VPC is unknown to the emulator: " + ", ".join(
            i["id"] for i in live if i.get("vpc_id") not in vpcs))
    elif len(cidrs) > 1:
        problems.append(f"the instances of {platform} sit in {len(cidrs)} VPCs ({', '.join(cidrs)}); one VPC is expected")
    if problems:
        raise HarnessError("; ".join(problems))
    bridge = platform_bridge(platform, root)
    address = ""
    want: dict[str, tuple[str, dict]] = {}
    if live:
        vpc = ipaddress.ip_network(cidrs[0])
        address = f"{vpc[1]}/{vpc.prefixlen}"
        for inst in live:
            name = instance_host_name(inst, platform, root)
            if name in want:
                raise HarnessError(f"instances {want[name][1]['instance_id']} and {inst['id']} both map to host {name}: "
                                   "Name tags of a platform must be unique")
            ip = ipaddress.ip_address(inst["private_ip"])
            if ip not in vpc or ip == vpc[1]:
                raise HarnessError(f"instance {inst['id']}: private IP {ip} is not a host address of VPC {vpc} "
                                   f"other than the router {vpc[1]}")
            want[name] = (str(ip), {"platform": platform, "checkout": str(root), "instance_id": inst["id"],
                                    "instance_name": inst.get("name") or ""})
    mine = [h for h in current if h.meta.get("platform") == platform and h.meta.get("checkout") == str(root)]
    have = {h.name: h for h in mine}
    stop = sorted(h.name for h in mine if h.name not in want or h.ip != want[h.name][0]
                  or h.meta.get("instance_id") != want[h.name][1]["instance_id"] or h.pid is None)
    start = sorted((name, ip) for name, (ip, _meta) in want.items() if name in stop or name not in have)
    return {"bridge": bridge, "address": address, "start": start, "stop": stop,
            "meta": {name: meta for name, (_ip, meta) in want.items()}, "hosts": sorted(want)}


def emulator_instances(platform: str, endpoint: str, region: str) -> tuple[list[dict], dict[str, str]]:
    """The platform's instances and their VPCs' CIDRs, read from the emulator (never a real AWS endpoint)."""
    from urllib.parse import urlparse  # pylint: disable=import-outside-toplevel

    if urlparse(endpoint).hostname not in LOOPBACK_HOSTS:
        raise HarnessError(f"--endpoint {endpoint}: hosts are only made from the local emulator on loopback, "
                           "never from a real AWS account")
    import boto3  # pylint: disable=import-outside-toplevel

    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing",
                       aws_secret_access_key="testing", aws_session_token="testing")  # nosec - emulator dummies
    instances = []
    for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "tag:msa:platform", "Values": [platform]},
                     {"Name": "instance-state-name", "Values": list(EC2_LIVE_STATES)}]):
        for res in page["Reservations"]:
            for inst in res["Instances"]:
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                instances.append({"id": inst["InstanceId"], "name": tags.get("Name", ""), "state": inst["State"]["Name"],
                                  "private_ip": inst.get("PrivateIpAddress", ""), "vpc_id": inst.get("VpcId", "")})
    vpc_ids = sorted({i["vpc_id"] for i in instances if i["vpc_id"]})
    vpcs = {v["VpcId"]: v["CidrBlock"] for v in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"]} if vpc_ids else {}
    return instances, vpcs


def sync(platform: str, endpoint: str, region: str, timeout: float = 180.0) -> dict:
    """Make the harness's hosts of `platform` match its live instances; drop the bridge when none is left."""
    instances, vpcs = emulator_instances(platform, endpoint, region)
    plan = plan_sync(platform, instances, vpcs, hosts())
    if plan["stop"]:
        down(plan["stop"])
    if plan["start"]:
        up(plan["start"], plan["bridge"], plan["address"], timeout, plan["meta"])
    elif plan["hosts"]:  # all up already: the bridge and its apt proxy still must be (after a reboot, say)
        net_up(plan["bridge"], plan["address"])
    elif _link_exists(plan["bridge"]) and not any(h.bridge == plan["bridge"] for h in hosts()):
        net_down(plan["bridge"])
    booted = [h.as_dict() for h in hosts() if h.name in plan["hosts"]]
    return {"changed": bool(plan["start"] or plan["stop"]), "bridge": plan["bridge"], "address": plan["address"],
            "started": [name for name, _ip in plan["start"]], "stopped": plan["stop"], "hosts": booted}


# --------------------------------------------------------------------------- helpers
def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def _pid_alive(path: Path) -> bool:
    return _read_pid(path) is not None


def _kill_pidfile(path: Path, grace: float = 5.0) -> None:
    pid = _read_pid(path)
    if pid is None:
        path.unlink(missing_ok=True)
        return
    # SIGTERM makes systemd-nspawn ask the container's systemd for an orderly poweroff.
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _read_pid(path):
        time.sleep(0.1)
    if _read_pid(path):
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.2)
    path.unlink(missing_ok=True)


def _is_mounted(path: Path) -> bool:
    target = str(path.resolve()) if path.exists() else str(path)
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == target for line in mounts)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return
        time.sleep(0.2)
    raise HarnessError(f"{what} did not open {host}:{port} within {timeout:.0f}s")


def _wait_ssh(name: str, ip: str, timeout: float) -> None:
    try:
        _wait_port(ip, 22, timeout, what=f"host {name}")
    except HarnessError as exc:
        tail = (_host_dir(name) / "console.log").read_text(errors="replace")[-1500:]
        raise HarnessError(f"{exc}\n--- console of {name} ---\n{tail}") from exc


# --------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("rootfs")
    p.add_argument("--force", action="store_true")
    for cmd in ("net-up", "net-down", "up"):
        p = sub.add_parser(cmd)
        p.add_argument("--bridge", default=DEFAULT_BRIDGE)
        if cmd != "net-down":
            p.add_argument("--cidr", default=DEFAULT_CIDR, help="the bridge's address, e.g. 10.213.0.1/24")
        if cmd == "up":
            p.add_argument("hosts", nargs="+", metavar="NAME=IP")
            p.add_argument("--timeout", type=float, default=60.0)
            p.add_argument("--instance-config", type=Path, help="also write molecule's instance config here")
    p = sub.add_parser("down")
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true")
    sub.add_parser("list")
    p = sub.add_parser("sync", help="a host per running EC2 instance of a platform in the emulator")
    p.add_argument("--platform", required=True)
    p.add_argument("--endpoint", required=True, help="the emulator, e.g. http://127.0.0.1:5123")
    p.add_argument("--region", required=True)
    p.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    if os.geteuid() != 0 and args.command != "list":
        print("testhosts: needs root (bridges, mounts, systemd-nspawn)", file=sys.stderr)
        return 2
    try:
        if args.command == "rootfs":
            print(build_rootfs(args.force))
            ssh_key()  # the key test hosts (and the local default's EC2 key pair) use
        elif args.command == "net-up":
            print(json.dumps(net_up(args.bridge, args.cidr)))
        elif args.command == "net-down":
            net_down(args.bridge)
        elif args.command == "up":
            specs = []
            for spec in args.hosts:
                name, sep, ip = spec.partition("=")
                if not sep:
                    raise HarnessError(f"{spec!r}: expected NAME=IP")
                specs.append((name, ip))
            booted = up(specs, args.bridge, args.cidr, args.timeout)
            if args.instance_config:
                write_instance_config(args.instance_config, booted)
            print(json.dumps(booted, indent=2))
        elif args.command == "down":
            if not args.names and not args.all:
                parser.error("down: name hosts or give --all")
            current = hosts()
            down([h.name for h in current] if args.all else args.names)
            if args.all:  # the platform bridges `sync` made (molecule's shared bridge stays)
                for bridge in sorted({h.bridge for h in current if h.meta.get("platform")}):
                    net_down(bridge)
        elif args.command == "sync":
            print(json.dumps(sync(args.platform, args.endpoint, args.region, args.timeout), indent=2))
        else:
            print(json.dumps([h.as_dict() for h in hosts()], indent=2))
    except HarnessError as exc:
        print(f"testhosts: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
