"""Benchmark: msa.platform.aws_cluster vs amazon.aws.aws_ec2 over N instances in the AWS emulator.

Creates N instances (default 1000) in 14 pools tagged like aws_compute tags them, then times, in one run:
  floor     one paginated boto3 describe_instances with the same filter, in this process (the emulator's own cost)
  start-up  `ansible-inventory --version` (process start-up)
  aws_ec2   `ansible-inventory --list` with amazon.aws.aws_ec2 configured to produce the same groups
  ours      `ansible-inventory --list` with msa.platform.aws_cluster, cold (--flush-cache) and warm (cache hit)
  static    `ansible-inventory --list` over a static file: N bare hosts, and one holding exactly our output
            (hosts, groups, variables), i.e. what ansible-inventory itself needs to print that result
and prints each plugin's overhead (total - start-up - floor) and the ratios against the goals of
BENCHMARKS.md: our overhead <= 1/4 of aws_ec2's, our cold total <= 0.6x aws_ec2's, warm <= start-up + 0.5 s.
It also checks both plugins put the same hosts in the same groups.

    .venv/bin/python benchmarks/inventory.py [--instances 1000] [--port 5139]

Uses its own emulator port (started and stopped here) so it never resets another user's emulator.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import emulator  # noqa: E402

REGION = "ap-northeast-2"
PLATFORM = "bench"
ANSIBLE_INVENTORY = str(ROOT / ".venv" / "bin" / "ansible-inventory")
# 14 pools like the ecoeco topology: (pool, role, tier, api)
POOLS = [("master", "control_plane", "app", None), ("auth", "api", "app", "auth"), ("my", "api", "app", "my"),
         ("scan", "api", "app", "scan"), ("character", "api", "app", "character"), ("location", "api", "app", "location"),
         ("info", "api", "app", "info"), ("chat", "api", "app", "chat"), ("storage", "worker", "app", None),
         ("ai", "worker", "app", None), ("postgresql", "postgresql", "data", None), ("redis", "redis", "data", None),
         ("rabbitmq", "rabbitmq", "mq", None), ("kafka", "kafka", "mq", None)]

OURS = """plugin: msa.platform.aws_cluster
platform: {platform}
regions: [{region}]
endpoint_url: {endpoint}
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: {cache}
cache_timeout: 3600
"""

# aws_ec2 producing the same groups as ours: conditional groups for the cluster, keyed groups for the rest.
AWS_EC2 = """plugin: amazon.aws.aws_ec2
regions: [{region}]
endpoint_url: {endpoint}
filters:
  tag:msa:platform: {platform}
  instance-state-name: running
hostnames: [tag:Name]
groups:
  k8s_cluster: tags['msa:role'] in ['control_plane', 'worker', 'api']
  control_plane: tags['msa:role'] == 'control_plane'
  workers: tags['msa:role'] in ['worker', 'api']
  postgresql: tags['msa:role'] == 'postgresql'
  redis: tags['msa:role'] == 'redis'
  rabbitmq: tags['msa:role'] == 'rabbitmq'
  kafka: tags['msa:role'] == 'kafka'
  monitoring: tags['msa:role'] == 'monitoring'
  bastion: tags['msa:role'] == 'bastion'
keyed_groups:
  - {{key: "tags['msa:pool']", prefix: pool}}
  - {{key: "tags['msa:api']", prefix: api}}
  - {{key: "tags['msa:tier']", prefix: tier}}
  - {{key: placement.availability_zone, prefix: az}}
compose:
  ansible_host: private_ip_address
"""


def create_instances(ec2, count: int) -> None:
    """count instances spread over the pools and two subnets, each with its own Name tag.

    The subnets are /17s (32,763 usable addresses each, AWS keeps 5), so 10,000 instances and more fit; /20s run out
    past about 8,000."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i * 128}.0/17", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ac")]
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    per_pool = [count // len(POOLS) + (1 if i < count % len(POOLS) else 0) for i in range(len(POOLS))]
    jobs = []
    for (pool, role, tier, api), size in zip(POOLS, per_pool, strict=False):
        for az_index, subnet in enumerate(subnets):
            n = size // 2 + (size % 2 if az_index == 0 else 0)
            if n:
                tags = {"msa:platform": PLATFORM, "msa:pool": pool, "msa:role": role, "msa:tier": tier}
                if api:
                    tags.update({"msa:api": api, "msa:labels": f"api={api},workload=api", "msa:taints": f"api={api}:NoSchedule"})
                jobs.append((pool, subnet, n, tags))

    def launch(job):
        pool, subnet, n, tags = job
        ids = [i["InstanceId"] for i in ec2.run_instances(
            ImageId=image, InstanceType="t3.small", MinCount=n, MaxCount=n, SubnetId=subnet,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])["Instances"]]
        return pool, ids

    def launch_in(subnet):
        return [launch(job) for job in jobs if job[1] == subnet]

    # One thread per subnet: the emulator hands out a subnet's addresses from one generator that two concurrent
    # RunInstances in the same subnet break ("generator already executing", a 500).
    with ThreadPoolExecutor(len(subnets)) as pool:
        launched = [item for batch in pool.map(launch_in, subnets) for item in batch]
    names = {}
    numbers: dict[str, int] = {}
    for pool_name, ids in launched:
        for instance_id in ids:
            numbers[pool_name] = numbers.get(pool_name, 0) + 1
            names[instance_id] = f"{PLATFORM}-{pool_name}-{numbers[pool_name]}"
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda item: ec2.create_tags(Resources=[item[0]], Tags=[{"Key": "Name", "Value": item[1]}]), names.items()))


def floor(ec2) -> float:
    start = time.perf_counter()
    found = 0
    filters = [{"Name": "tag:msa:platform", "Values": [PLATFORM]}, {"Name": "instance-state-name", "Values": ["running"]}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        found += sum(len(r["Instances"]) for r in page["Reservations"])
    return time.perf_counter() - start, found


CPU = {}


def timed(args: list, env: dict) -> tuple[float, str]:
    """Wall time and stdout of one ansible-inventory run; its CPU time (user + sys) goes to CPU[args]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run([ANSIBLE_INVENTORY, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[tuple(args)] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if run.returncode != 0:
        raise SystemExit(f"ansible-inventory {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return elapsed, run.stdout


# Times only the plugin's parse (warm cache) inside one Python process, after every import: the plugin's own
# share of a warm run, apart from what ansible-inventory does with any inventory (per-host vars, JSON output).
PARSE_ONLY = """
import sys, time
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
inventory_loader.get("msa.platform.aws_cluster")
start = time.perf_counter()
inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
print(time.perf_counter() - start, len(inventory.hosts))
"""


def parse_only(source: Path, env: dict) -> float:
    run = subprocess.run([sys.executable, "-c", PARSE_ONLY, str(source)], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"in-process parse of {source} failed:\n{run.stderr[-3000:]}")
    return float(run.stdout.split()[0])


def membership(listing: str) -> dict:
    data = json.loads(listing)
    return {group: sorted(body.get("hosts", [])) for group, body in data.items() if group not in ("_meta", "all", "ungrouped", "aws_ec2") and body.get("hosts")}


def static_twin(listing: dict) -> dict:
    """An `ansible-inventory --list` output as a static inventory with the same content. It stays JSON (which
    the yaml inventory plugin reads), so untrusted values keep their {"__ansible_unsafe": ...} form and load
    back as the same untrusted strings."""
    children = {group: {"hosts": dict.fromkeys(body.get("hosts", []))}
                for group, body in listing.items() if group not in ("_meta", "all")}
    return {"all": {"hosts": listing["_meta"]["hostvars"], "children": children}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--port", type=int, default=5139, help="emulator port used (and reset) by this benchmark only")
    options = parser.parse_args()
    endpoint = emulator.start(options.port)
    # A source that fails to parse is only a warning to ansible-inventory (an empty listing, exit 0): make it an error,
    # so a client timing out against a slow emulator cannot pass for a fast plugin.
    env = dict(os.environ, **emulator.client_env(options.port), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true")
    os.environ.update(emulator.client_env(options.port))
    import boto3  # pylint: disable=import-outside-toplevel

    try:
        emulator.reset(options.port)
        # A RunInstances of hundreds of instances takes the emulator over a minute on a busy machine: wait for it, and
        # never retry it (a retried launch that had succeeded would double the instances).
        from botocore.config import Config  # pylint: disable=import-outside-toplevel
        ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint,
                           config=Config(read_timeout=1800, retries={"total_max_attempts": 1}))
        start = time.perf_counter()
        create_instances(ec2, options.instances)
        print(f"{options.instances} instances in {len(POOLS)} pools created in the emulator at {endpoint} in {time.perf_counter() - start:.1f}s")
        with tempfile.TemporaryDirectory() as tmp:
            ours_file = Path(tmp) / "bench.aws_cluster.yml"
            ours_file.write_text(OURS.format(platform=PLATFORM, region=REGION, endpoint=endpoint, cache=Path(tmp) / "cache"))
            ec2_file = Path(tmp) / "bench.aws_ec2.yml"
            ec2_file.write_text(AWS_EC2.format(platform=PLATFORM, region=REGION, endpoint=endpoint))
            floor_s, found = floor(ec2)
            assert found == options.instances, (found, options.instances)
            startup = statistics.median(timed(["--version"], env)[0] for _dummy in range(3))
            ec2_total, ec2_out = timed(["-i", str(ec2_file), "--list"], env)
            cold, ours_out = timed(["-i", str(ours_file), "--list", "--flush-cache"], env)
            warm, warm_out = timed(["-i", str(ours_file), "--list"], env)
            parse_s = statistics.median(parse_only(ours_file, env) for _dummy in range(3))
            # ansible-inventory's own cost for N hosts (vars plugins, JSON output), whatever the plugin
            static = Path(tmp) / "static.yml"
            static.write_text(json.dumps({"all": {"hosts": {f"h{i}": None for i in range(options.instances)}}}))
            static_s, _dummy = timed(["-i", str(static), "--list"], env)
            # ... and for exactly the hosts, groups and variables our plugin produced, read from a file
            twin_file = Path(tmp) / "same.json"
            twin_file.write_text(json.dumps(static_twin(json.loads(ours_out))))
            same_s, same_out = timed(["-i", str(twin_file), "--list"], env)
            cpu = {label: CPU[tuple(args)] for label, args in (
                ("start-up", ["--version"]), ("aws_ec2", ["-i", str(ec2_file), "--list"]),
                ("cold", ["-i", str(ours_file), "--list", "--flush-cache"]), ("warm", ["-i", str(ours_file), "--list"]),
                ("static", ["-i", str(static), "--list"]), ("same as file", ["-i", str(twin_file), "--list"]))}
        same = membership(ours_out) == membership(ec2_out) == membership(warm_out) == membership(same_out)
        same_vars = json.loads(same_out)["_meta"]["hostvars"] == json.loads(ours_out)["_meta"]["hostvars"]
        hosts = len(json.loads(ours_out)["_meta"]["hostvars"])
        if hosts != options.instances or len(json.loads(ec2_out)["_meta"]["hostvars"]) != options.instances:
            raise SystemExit(f"the listings do not hold the {options.instances} instances (ours {hosts}): no figures")
        ec2_over, ours_over = ec2_total - startup - floor_s, cold - startup - floor_s
        print(f"floor (one paginated describe_instances, boto3)  {floor_s:6.2f} s")
        print(f"start-up (ansible-inventory --version)           {startup:6.2f} s")
        print(f"amazon.aws.aws_ec2 --list                        {ec2_total:6.2f} s   overhead {ec2_over:6.2f} s")
        print(f"msa.platform.aws_cluster --list, cold            {cold:6.2f} s   overhead {ours_over:6.2f} s")
        print(f"msa.platform.aws_cluster --list, warm            {warm:6.2f} s   above start-up {warm - startup:5.2f} s")
        print(f"  of which the plugin's own parse (in-process)   {parse_s:6.2f} s")
        print(f"static file of {options.instances} bare hosts               {static_s:6.2f} s   above start-up {static_s - startup:5.2f} s"
              "   (ansible-inventory's own per-host cost)")
        print(f"static file with the same hosts, groups and vars {same_s:6.2f} s   above start-up {same_s - startup:5.2f} s"
              "   (what ansible-inventory needs for this output, with no plugin at all)")
        print("CPU seconds (user+sys): " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
        print(f"hosts {hosts}; same groups and members as aws_ec2: {'yes' if same else 'NO'}; "
              f"static file gives the same hostvars: {'yes' if same_vars else 'NO'}")
        print(f"overhead ratio ours/aws_ec2   {ours_over / ec2_over:5.2f}  (goal <= 0.25)  {'ok' if ours_over <= 0.25 * ec2_over else 'MISSED'}")
        print(f"cold ratio ours/aws_ec2       {cold / ec2_total:5.2f}  (goal <= 0.60)  {'ok' if cold <= 0.6 * ec2_total else 'MISSED'}")
        print(f"warm above start-up           {warm - startup:5.2f}s (goal <= 0.50s) {'ok' if warm - startup <= 0.5 else 'MISSED'}")
    finally:
        emulator.stop(options.port)


if __name__ == "__main__":
    main()
