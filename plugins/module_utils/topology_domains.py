# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator access (network.access / network.vpn) and the domains' AWS resources (docs/topology.md "Domains").

Checks run on the shaped topology (topology_schema.shape) and add `path: problem` strings to the error list;
`plan_access()` and `plan_domains()` give the plan keys (docs/plan.md). Names are built here once:

- ECR repository  <platform>/<domain>/<repository>
- S3 bucket       <platform>-<domain>-<suffix>; the suffix defaults to the AWS account id, which the
                  plan cannot know: the name then ends in the literal `{account_id}` that playbooks/domains.yml
                  fills in (12 digits, counted in the length checks). Bucket names are global across all
                  AWS accounts, so a fixed suffix must be unique to you.
- IAM role        <platform>-<domain>-workload
"""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import dns_label_problem
from ansible_collections.msa.platform.plugins.module_utils.topology_net import is_private, overlaps

ACCOUNT_ID = "{account_id}"
ACCOUNT_ID_LEN = 12
# ECR repository names: lowercase path components separated by '/', each [a-z0-9]+ joined by . _ - (or __).
_ECR_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*")
_PG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_BUCKET_CHARS = re.compile(r"[a-z0-9-]+")
# Prefixes and suffixes S3 reserves (general purpose bucket naming rules).
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3")
ROLE_SUFFIX = "-workload"


def resolve_access(data: dict, raw: dict, errors: list) -> None:
    """Fill network.access (default from network.bastion / a declared bastion pool), turn the bastion on for
    bastion and vpn, and check the VPN settings. Runs before the network checks (they see the bastion)."""
    net = data.get("network")
    if not isinstance(net, dict):
        return
    raw_net = raw.get("network") if isinstance(raw.get("network"), dict) else {}
    pools = raw.get("pools") if isinstance(raw.get("pools"), list) else []
    declared = any(isinstance(p, dict) and p.get("role") == "bastion" for p in pools)
    access = net.get("access")
    if "access" not in raw_net:
        access = net["access"] = "bastion" if net.get("bastion") or declared else "direct"
    elif access in ("bastion", "vpn"):
        net["bastion"] = True
    elif access in ("direct", "ssm"):
        if raw_net.get("bastion") is True:
            errors.append(f"network.bastion: true, but network.access is {access}; remove it or set access: bastion (or vpn)")
        elif declared:
            errors.append(f"network.access: {access}, but a pool has role: bastion; remove the pool or set access: bastion (or vpn)")
    vpn = net.get("vpn") if isinstance(net.get("vpn"), dict) else {}
    if "vpn" in raw_net and access is not None and access != "vpn":
        errors.append(f"network.vpn: set, but network.access is {access}; remove it or set access: vpn")
    # The client range matters only with access: vpn (the schema fills in a default range for every topology).
    cidr, vpc = vpn.get("client_cidr") if access == "vpn" else None, net.get("cidr")
    if cidr is not None:
        prefix = ipaddress.ip_network(cidr).prefixlen
        if not 16 <= prefix <= 29:
            errors.append(f"network.vpn.client_cidr: {cidr}: use a /16 to /29 (OpenVPN gives each client one address of it)")
        elif not is_private(cidr):
            errors.append(f"network.vpn.client_cidr: {cidr} is not a private range")
        elif vpc is not None and overlaps(cidr, vpc):
            errors.append(f"network.vpn.client_cidr: {cidr} overlaps the VPC {vpc}; clients need a range of their own")
        else:
            admins = [c for c in net.get("admin_cidrs") or [] if isinstance(c, str) and overlaps(cidr, c)]
            if admins:
                errors.append(f"network.vpn.client_cidr: {cidr} overlaps admin_cidrs {', '.join(admins)}; the VPC routes the client "
                              "range to the VPN server, so it must be a range no admin network uses")
    users = vpn.get("users") or []
    for i, user in enumerate(users):
        if not isinstance(user, str):
            continue
        problem = dns_label_problem(user)
        if problem:
            errors.append(f"network.vpn.users[{i}]: {user!r} {problem}")
        elif user in users[:i]:
            errors.append(f"network.vpn.users[{i}]: {user!r} is listed twice")
    if access == "vpn" and vpn and not users:
        errors.append("network.vpn.users: empty with access: vpn; list at least one user to get a client profile")


def check_domains(data: dict, raw: dict, mode, roles: set, errors: list) -> None:
    """Every domain: names, bucket name rules, lifecycle rules, database placement, IAM name length."""
    domains = data.get("domains")
    if not isinstance(domains, list):
        return
    raw_domains = raw.get("domains") if isinstance(raw.get("domains"), list) else []
    platform = data.get("name")
    services = raw.get("services") if isinstance(raw.get("services"), dict) else {}
    pg_raw = services.get("postgresql") if isinstance(services.get("postgresql"), dict) else {}
    postgres = "postgresql" in roles or pg_raw.get("managed") is True
    names, namespaces, databases = {}, {}, {}
    for i, dom in enumerate(domains):
        if not isinstance(dom, dict):
            continue
        path = f"domains[{i}]"
        raw_dom = raw_domains[i] if i < len(raw_domains) and isinstance(raw_domains[i], dict) else {}
        name = dom.get("name")
        if isinstance(name, str):
            problem = dns_label_problem(name)
            if problem:
                errors.append(f"{path}.name: {name!r} {problem}")
                name = None
            elif name in names:
                errors.append(f"{path}.name: {name!r} is already domains[{names[name]}]; domain names must be unique")
            names.setdefault(name, i)
        namespace = dom.get("namespace") or (name if "namespace" not in raw_dom else None)
        if isinstance(namespace, str):
            problem = dns_label_problem(namespace)
            if problem:
                errors.append(f"{path}.namespace: {namespace!r} {problem}")
            elif namespace.startswith("kube-") or namespace == "default":
                errors.append(f"{path}.namespace: {namespace!r} is a Kubernetes system namespace; give the domain its own")
            elif namespace in namespaces:
                errors.append(f"{path}.namespace: {namespace!r} is already the namespace of domains[{namespaces[namespace]}]")
            namespaces.setdefault(namespace, i)
        if not isinstance(name, str) or not isinstance(platform, str):
            continue
        _check_ecr(path, dom.get("ecr"), platform, name, errors)
        _check_bucket(path, dom.get("bucket"), platform, name, errors)
        _check_database(i, dom.get("database"), name, postgres, databases, pg_raw, errors)
        iam = dom.get("iam")
        role = platform + "-" + name + ROLE_SUFFIX
        wanted = iam.get("enabled") if isinstance(iam, dict) else (dom.get("ecr") is not None or dom.get("bucket") is not None)
        if wanted and mode == "eks" and len(role) > 64:
            errors.append(f"{path}.name: the workload role {role!r} would be {len(role)} characters; IAM role names are at most 64, "
                          "shorten the domain or platform name")
        if isinstance(iam, dict) and isinstance(iam.get("service_account"), str):
            problem = dns_label_problem(iam["service_account"])
            if problem:
                errors.append(f"{path}.iam.service_account: {iam['service_account']!r} {problem}")


def _check_ecr(path: str, ecr, platform: str, domain: str, errors: list) -> None:
    if not isinstance(ecr, dict):
        return
    repos = ecr.get("repositories")
    if repos == []:
        errors.append(f"{path}.ecr.repositories: empty; list one repository per service, or remove ecr")
    for j, repo in enumerate(repos or []):
        if not isinstance(repo, str):
            continue
        rpath = f"{path}.ecr.repositories[{j}]"
        full = f"{platform}/{domain}/{repo}"
        if not _ECR_COMPONENT.fullmatch(repo):
            errors.append(f"{rpath}: {repo!r} is not an ECR repository name: lowercase letters and digits, separated by '.', '_' or '-' "
                          "(no '/': the platform prefixes <platform>/<domain>/)")
        elif len(full) > 256:
            errors.append(f"{rpath}: {full!r} is {len(full)} characters; ECR allows 256")
        elif repo in repos[:j]:
            errors.append(f"{rpath}: {repo!r} is listed twice")


def bucket_name(platform: str, domain: str, suffix) -> str:
    return f"{platform}-{domain}-{suffix if suffix is not None else ACCOUNT_ID}"


def bucket_name_problem(name: str) -> str:
    """'' when S3 accepts `name` as a general purpose bucket name (the {account_id} placeholder counted as 12 digits)."""
    real = name.replace(ACCOUNT_ID, "0" * ACCOUNT_ID_LEN)
    if not 3 <= len(real) <= 63:
        return f"is {len(real)} characters long; S3 bucket names are 3 to 63"
    if "." in real:
        return "contains '.'; S3 allows it, but dotted names break HTTPS on virtual-hosted URLs, so the platform refuses them"
    if not _BUCKET_CHARS.fullmatch(real):
        return "may contain only lowercase letters, digits and '-'"
    if not real[0].isalnum() or not real[-1].isalnum():
        return "must begin and end with a letter or digit"
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if real.startswith(prefix):
            return f"starts with {prefix!r}, which S3 reserves"
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if real.endswith(suffix):
            return f"ends with {suffix!r}, which S3 reserves"
    return ""


def _check_bucket(path: str, bucket, platform: str, domain: str, errors: list) -> None:
    if not isinstance(bucket, dict):
        return
    name = bucket_name(platform, domain, bucket.get("suffix"))
    problem = bucket_name_problem(name)
    if problem:
        where = f"{path}.bucket.suffix" if bucket.get("suffix") is not None else f"{path}.name"
        errors.append(f"{where}: the bucket name {name!r} {problem}")
    ids = {}
    for j, rule in enumerate(bucket.get("lifecycle") or []):
        if not isinstance(rule, dict):
            continue
        rpath = f"{path}.bucket.lifecycle[{j}]"
        rid = rule.get("id")
        if isinstance(rid, str):
            if rid in ids:
                errors.append(f"{rpath}.id: {rid!r} is already lifecycle[{ids[rid]}]; rule ids are unique in a bucket")
            ids.setdefault(rid, j)
        expire, glacier, noncurrent = rule.get("expire_days"), rule.get("glacier_days"), rule.get("noncurrent_days")
        if expire is None and glacier is None and noncurrent is None:
            errors.append(f"{rpath}: does nothing; give expire_days, glacier_days or noncurrent_days")
        if expire is not None and glacier is not None and glacier >= expire:
            errors.append(f"{rpath}.glacier_days: {glacier} is not before expire_days ({expire}); objects would expire first")
        if noncurrent is not None and bucket.get("versioning") is False:
            errors.append(f"{rpath}.noncurrent_days: the bucket keeps no versions (versioning: false); remove it or turn versioning on")


def _check_database(index: int, db, domain: str, postgres: bool, seen: dict, pg_raw: dict, errors: list) -> None:
    path = f"domains[{index}]"
    if not isinstance(db, dict):
        return
    if not postgres:
        errors.append(f"{path}.database: the platform has no PostgreSQL; add a pool with role: postgresql (or services.postgresql.managed: true)")
        return
    name = db.get("name") or domain.replace("-", "_")
    owner = db.get("owner") or name
    for key, value in (("name", name), ("owner", owner)):
        if not _PG_NAME.fullmatch(value):
            errors.append(f"{path}.database.{key}: {value!r} is not a PostgreSQL identifier we accept: lowercase letters, digits and '_', "
                          "not starting with a digit, at most 63 characters")
    if name in seen:
        errors.append(f"{path}.database.name: {name!r} is already the database of domains[{seen[name]}]")
    seen.setdefault(name, index)
    for listed in pg_raw.get("databases") or []:
        if isinstance(listed, dict) and listed.get("name") == name and (listed.get("owner") or name) != owner:
            errors.append(f"{path}.database: {name!r} is also in services.postgresql.databases with owner {listed.get('owner') or name!r}, "
                          f"not {owner!r}; give one owner")


# ---------------------------------------------------------------- plan

def plan_access(net: dict, nodes: list) -> dict:
    """The plan's network.access and network.vpn (null unless access is vpn). The VPN server is the first bastion node:
    the VPC's route tables send the client range to it (no NAT: the nodes see each client's own VPN address)."""
    vpn = net["vpn"]
    server = next((n["name"] for n in nodes if n["role"] == "bastion"), None)
    return {"access": net["access"],
            "vpn": {"client_cidr": vpn["client_cidr"], "port": vpn["port"], "protocol": "udp", "users": list(vpn["users"]),
                    "server": server}
            if net["access"] == "vpn" else None}


def plan_domains(platform: str, mode: str, domains: list) -> list:
    out = []
    for dom in domains:
        name = dom["name"]
        namespace = dom["namespace"] or name
        ecr, bucket, db, iam = dom["ecr"], dom["bucket"], dom["database"], dom.get("iam")
        item = {"name": name, "namespace": namespace, "ecr": None, "bucket": None, "database": None, "iam": None}
        if ecr is not None:
            item["ecr"] = {"repositories": [f"{platform}/{name}/{r}" for r in ecr["repositories"]],
                           "keep_images": ecr["keep_images"], "untagged_days": ecr["untagged_days"],
                           "scan_on_push": ecr["scan_on_push"], "immutable_tags": ecr["immutable_tags"]}
        if bucket is not None:
            item["bucket"] = {"name": bucket_name(platform, name, bucket["suffix"]), "versioning": bucket["versioning"],
                              "lifecycle": [{"id": r["id"], "prefix": r["prefix"], "expire_days": r["expire_days"],
                                             "glacier_days": r["glacier_days"], "noncurrent_days": r["noncurrent_days"]}
                                            for r in bucket["lifecycle"]]}
        if db is not None:
            dbname = db["name"] or name.replace("-", "_")
            item["database"] = {"name": dbname, "owner": db["owner"] or dbname}
        enabled = iam["enabled"] if iam is not None else (ecr is not None or bucket is not None)
        if enabled and mode == "eks":
            item["iam"] = {"role": platform + "-" + name + ROLE_SUFFIX, "mode": "irsa",
                           "service_account": (iam or {}).get("service_account") or name, "namespace": namespace}
        out.append(item)
    return out


def add_databases(services: dict, domains: list) -> None:
    """Append the domains' databases to services.postgresql.databases (once each), when PostgreSQL runs on pools."""
    pg = services.get("postgresql")
    if not isinstance(pg, dict):
        return
    listed = {d["name"] for d in pg["databases"]}
    for dom in domains:
        if dom["database"] and dom["database"]["name"] not in listed:
            pg["databases"].append(dict(dom["database"]))
            listed.add(dom["database"]["name"])
