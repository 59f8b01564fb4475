# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
name: aws_cluster
short_description: The EC2 nodes of one msa.platform platform, grouped the way the plan names them
version_added: "0.1.0"
description:
  - Finds the instances of one platform by their C(msa:platform) tag with one paginated
    C(DescribeInstances) call per region (server-side filters on the tag and the instance state), the
    regions queried concurrently.
  - Groups every host the way the plan (C(msa_plan.groups), docs/plan.md) does, so a play can target
    C(control_plane), C(workers), C(k8s_cluster), a role (C(postgresql), C(redis), C(rabbitmq), C(kafka),
    C(monitoring), C(bastion)), a pool (C(pool_<pool>)) or an API (C(api_<api>)); also C(tier_<tier>) and
    C(az_<az>) (dashes become underscores). The fixed groups exist even when empty.
  - Host names are the C(Name) tags (C(<platform>-<pool>-<n>)); when two instances claim one name the
    oldest keeps it and the others become C(<name>_<instance-id>).
  - "Host variables: C(msa_instance_id), C(msa_region), C(msa_az), C(msa_instance_type),
    C(msa_private_ip), C(msa_private_dns_name) (the Kubernetes node name, e.g. C(ip-10-0-4-12.ap-northeast-2.compute.internal)),
    C(msa_public_ip), C(msa_pool), C(msa_role), C(msa_tier), C(msa_api) (null unless an api pool),
    C(msa_node_labels) (dict), C(msa_node_taints) (list of C(key)/C(value)/C(effect)) and C(ansible_host) (see O(ansible_host))."
  - "O(compose), O(groups) and O(keyed_groups) also see C(tags) (the instance tags as a dict), C(msa_state),
    C(msa_vpc_id), C(msa_subnet_id) and C(msa_launch_time), which are not stored as host variables to keep large
    inventories fast."
  - "Kubernetes labels and taints are read from two tags written by the C(aws_compute) role:
    C(msa:labels) = C(k=v,k2=v2) and C(msa:taints) = C(k=v:Effect,k2=:Effect)."
  - "Supports the inventory cache (any cache plugin). C(meta: refresh_inventory) always re-reads AWS and
    rewrites the cache, so hosts created earlier in the same run are visible."
  - Uses the configuration file only if it ends with C(aws_cluster.yml) or C(aws_cluster.yaml).
author:
  - msa.platform maintainers (@msa-platform)
requirements:
  - boto3 (only when the cache is cold)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file a configuration for it.
    type: str
    required: true
    choices: [msa.platform.aws_cluster]
  platform:
    description: The platform name, the value of the C(msa:platform) tag (C(msa_plan.name)).
    type: str
    required: true
  regions:
    description:
      - Regions to query, concurrently.
      - When empty, the region of the C(AWS_REGION) or C(AWS_DEFAULT_REGION) environment variable.
    type: list
    elements: str
    default: []
  instance_states:
    description: Instance states to include (server-side filter). Empty means every state.
    type: list
    elements: str
    default: [running]
  filters:
    description:
      - Extra server-side C(DescribeInstances) filters, name to value or list of values,
        for example C(tag:msa:tier) set to C(data).
    type: dict
    default: {}
  endpoint_url:
    description:
      - URL of the EC2 API instead of the AWS default, for example a local emulator.
      - May be a template (the inventory file is trusted), for example
        C({{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') or 'http://127.0.0.1:5123' }}).
    type: str
    env:
      - name: AWS_ENDPOINT_URL
  profile:
    description: AWS profile to use; otherwise the usual boto3 credential chain.
    type: str
    env:
      - name: AWS_PROFILE
  access_key:
    description: AWS access key id; otherwise the usual boto3 credential chain.
    type: str
  secret_key:
    description: AWS secret access key; otherwise the usual boto3 credential chain.
    type: str
  session_token:
    description: AWS session token, with O(access_key) and O(secret_key).
    type: str
  ansible_host:
    description:
      - How C(ansible_host) is chosen. C(auto) is the private IP with a C(ProxyJump) through the bastion
        (C(ansible_ssh_common_args)) when the platform has one, otherwise the public IP, otherwise the private IP.
      - C(ssm) sets C(ansible_host) to the instance id and C(ansible_connection) to C(community.aws.aws_ssm).
      - Any of it can be overridden with O(compose) or host and group variables of higher precedence.
    type: str
    choices: [auto, private_ip, public_ip, ssm]
    default: auto
  bastion_user:
    description: SSH user on the bastion, for the C(ProxyJump) of O(ansible_host=auto).
    type: str
    default: admin
  hostnames:
    description: What names the hosts. C(name) is the C(Name) tag (the instance id when it is missing).
    type: str
    choices: [name, instance_id, private_ip]
    default: name
"""

EXAMPLES = r"""
# inventories/prod/aws_cluster.yml
plugin: msa.platform.aws_cluster
platform: ecoeco
regions: [ap-northeast-2]

---
# Local emulator, cached for ten minutes in JSON files, an extra group and a variable
plugin: msa.platform.aws_cluster
platform: msa-local
regions: [ap-northeast-2]
endpoint_url: http://127.0.0.1:5123
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: .cache/inventory
cache_timeout: 600
keyed_groups:
  - key: msa_instance_type
    prefix: type
groups:
  big_nodes: msa_instance_type.startswith('t3.large')
compose:
  node_ip: msa_private_ip

---
# Reach every node through SSM instead of SSH
plugin: msa.platform.aws_cluster
platform: ecoeco
regions: [ap-northeast-2, ap-northeast-1]
ansible_host: ssm
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.msa.platform.plugins.module_utils.aws_cluster_inventory import (
    FIXED_GROUPS,
    build_hosts,
    ec2_filters,
    instance_record,
)

CACHE_FORMAT = 1


def _from_cache(value, query: dict):
    """The cached records when the cache holds this query's result, else None."""
    if not isinstance(value, str):
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("query") != query:
        return None
    return data.get("records")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "msa.platform.aws_cluster"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("aws_cluster.yml", "aws_cluster.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        query = self._query()
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        records = None
        if use_cache:
            records = _from_cache(self._cache.get(cache_key), query)
            update_cache = records is None
        if records is None:
            records = self._fetch(query)
        if update_cache:
            # One JSON string: the cache plugin's own decoder is slow on large nested values.
            self._cache[cache_key] = json.dumps({"format": CACHE_FORMAT, "query": query, "records": records}, separators=(",", ":"))
        self._populate(records)

    # ------------------------------------------------------------------ query
    def _query(self) -> dict:
        regions = self.get_option("regions") or [os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")]
        if not all(regions):
            raise AnsibleError("aws_cluster: no region: set `regions` in the inventory file or AWS_REGION in the environment")
        query = {
            "platform": self.get_option("platform"),
            "regions": sorted(set(regions)),
            "filters": ec2_filters(self.get_option("platform"), self.get_option("instance_states"), self.get_option("filters")),
            "endpoint_url": self._endpoint_url(),
        }
        # Plain data: option values carry Ansible's trust and origin tags, which the records must not inherit.
        return json.loads(json.dumps(query))

    def _endpoint_url(self):
        """endpoint_url, rendered when the inventory file gives a template (the local default follows AWS_ENDPOINT_URL)."""
        value = self.get_option("endpoint_url")
        if isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return value or None

    def _fetch(self, query: dict) -> list:
        try:
            import boto3  # pylint: disable=import-outside-toplevel
            from botocore.config import Config  # pylint: disable=import-outside-toplevel
        except ImportError as exc:
            raise AnsibleError("aws_cluster: boto3 is required when the inventory cache is cold; pip install boto3") from exc
        session = boto3.Session(profile_name=self.get_option("profile"), aws_access_key_id=self.get_option("access_key"),
                                aws_secret_access_key=self.get_option("secret_key"), aws_session_token=self.get_option("session_token"))
        config = Config(retries={"mode": "adaptive", "max_attempts": 8}, max_pool_connections=4)
        # Clients are created here (a session is not thread-safe); each region is read in its own thread.
        clients = {region: session.client("ec2", region_name=region, endpoint_url=query["endpoint_url"], config=config)
                   for region in query["regions"]}
        with ThreadPoolExecutor(max_workers=min(8, len(clients))) as pool:
            parts = list(pool.map(lambda item: self._describe(item[1], item[0], query), clients.items()))
        return [rec for part in parts for rec in part]

    @staticmethod
    def _describe(client, region: str, query: dict) -> list:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError  # pylint: disable=import-outside-toplevel

        records = []
        try:
            for page in client.get_paginator("describe_instances").paginate(Filters=query["filters"], PaginationConfig={"PageSize": 1000}):
                for reservation in page["Reservations"]:
                    records.extend(instance_record(inst, region) for inst in reservation["Instances"])
        except NoCredentialsError as exc:
            raise AnsibleError(f"aws_cluster: no AWS credentials for region {region}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                               "AWS_PROFILE, or the profile / access_key / secret_key options") from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise AnsibleError("aws_cluster: DescribeInstances in {} failed: {} {}".format(region, err.get("Code"), err.get("Message"))) from exc
        except BotoCoreError as exc:
            raise AnsibleError(f"aws_cluster: DescribeInstances in {region} failed: {exc}") from exc
        return records

    # ------------------------------------------------------------------ populate
    def _populate(self, records: list) -> None:
        inventory = self.inventory
        for group in FIXED_GROUPS:
            inventory.add_group(group)
        known = set(FIXED_GROUPS)
        compose, groups, keyed = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        strict = self.get_option("strict")
        constructed = bool(compose or groups or keyed)
        hosts = build_hosts(records, self.get_option("ansible_host"), self.get_option("hostnames"), self.get_option("bastion_user"))
        for name, hvars, host_groups, rec in hosts:
            inventory.add_host(name)
            # Straight into the host's own vars: set_variable() would run Ansible's variable visitor on
            # each of the 13 values of every host only to attach an origin tag (2/3 of this plugin's
            # warm time at 1000 hosts). The values are plain str/None/dict/list built by build_hosts(),
            # never trusted as templates, exactly what set_variable() stores minus the origin.
            inventory.get_host(name).vars.update(hvars)
            for group in host_groups:
                if group not in known:
                    inventory.add_group(group)
                    known.add(group)
                inventory.add_child(group, name)
            if constructed:
                cvars = dict(hvars, tags=rec["tags"], msa_state=rec["state"], msa_vpc_id=rec["vpc_id"], msa_subnet_id=rec["subnet_id"],
                             msa_launch_time=rec["launch_time"])
                self._set_composite_vars(compose, cvars, name, strict=strict)
                self._add_host_to_composed_groups(groups, cvars, name, strict=strict)
                self._add_host_to_keyed_groups(keyed, cvars, name, strict=strict)
