"""Fidelity fixes and extensions applied to moto before the emulator serves a request.

Each submodule fixes or extends one service and exposes `apply()`, which is idempotent. `apply_all()`
applies them all; scripts/moto_server.py calls it before starting moto's server, and unit tests call
it before `moto.mock_aws` so the in-process mock behaves like the emulator.

- ec2_rules: security group rules for protocols without ports (Calico IP-in-IP).
- ec2_metadata: ModifyInstanceMetadataOptions keeps the options a request leaves out.
- ec2_launch_templates: a launch template's own tags stay out of its LaunchTemplateData.
- eks: what moto 5.2.5 lacks or gets wrong for EKS (README, "Emulator extensions").
- iam_oidc: adding and removing client IDs of an OpenID Connect provider.
- ec2_key_pairs: ImportKeyPair's fingerprint as the EC2 API reference documents it.
- ec2_subnets: deleting a subnet removes its route table association.
- ec2_tags: a resource's tags read directly (DescribeInstances at 10,000 instances: 887 s -> seconds).
- rds: DescribeDBParameterGroups by name (managed PostgreSQL).
- elasticache: replication groups and cache parameter groups as ElastiCache keeps them (managed Redis).
"""
from __future__ import annotations

from . import ec2_key_pairs, ec2_launch_templates, ec2_metadata, ec2_rules, ec2_subnets, ec2_tags, eks, elasticache, iam_oidc, rds

FIXES = (ec2_rules, ec2_metadata, ec2_launch_templates, eks, iam_oidc,
         ec2_key_pairs, ec2_subnets, ec2_tags)
FIXES += (rds, elasticache)


def apply_all() -> None:
    for fix in FIXES:
        fix.apply()
