"""Valid base topologies the topology tests mutate, and small helpers to reach into them."""
from __future__ import annotations


def kubeadm() -> dict:
    """A valid kubeadm topology with one pool of every role (bastion aside)."""
    return {
        "name": "shop",
        "region": "ap-northeast-2",
        "network": {"admin_cidrs": ["203.0.113.0/24"], "tiers": ["public", "app", "data", "mgmt", "mq"]},
        "pools": [
            {"name": "cp", "role": "control_plane", "instance_type": "t3.medium"},
            {"name": "auth", "role": "api"},
            {"name": "general", "role": "worker"},
            {"name": "pg", "role": "postgresql", "count": 2},
            {"name": "cache", "role": "redis"},
            {"name": "mq", "role": "rabbitmq"},
            {"name": "kafka", "role": "kafka", "count": 3},
            {"name": "mon", "role": "monitoring"},
        ],
    }


def eks() -> dict:
    """A valid EKS topology."""
    return {
        "name": "shop",
        "region": "us-east-1",
        "kubernetes": {"mode": "eks", "version": "1.35"},
        "network": {"admin_cidrs": ["203.0.113.0/24"]},
        "pools": [
            {"name": "general", "role": "worker", "count": 2},
            {"name": "orders", "role": "api", "count": 2, "max_size": 4},
            {"name": "pg", "role": "postgresql"},
        ],
    }


def pool(t: dict, name: str) -> dict:
    return next(p for p in t["pools"] if p["name"] == name)


def net(t: dict) -> dict:
    return t.setdefault("network", {})


def k8s(t: dict) -> dict:
    return t.setdefault("kubernetes", {})


def svc(t: dict, name: str) -> dict:
    return t.setdefault("services", {}).setdefault(name, {})


def drop(t: dict, name: str) -> None:
    t["pools"] = [p for p in t["pools"] if p["name"] != name]


def full_kubeadm() -> dict:
    """A valid kubeadm topology that gives every string field of the schema a value (eks-only fields aside).

    Pools that carry labels and taints come before the api pool, and their taints are PreferNoSchedule, so an
    empty label or taint value stays valid where the schema allows it.
    """
    return {
        "name": "shop",
        "region": "ap-northeast-2",
        "tags": {"team": "payments"},
        "kubernetes": {"mode": "kubeadm", "version": "1.37", "cni": "calico", "pod_cidr": "192.168.0.0/16", "service_cidr": "10.96.0.0/12",
                       "control_plane_endpoint": "node", "node_name": "private_dns", "calico": {"encapsulation": "VXLAN"},
                       "etcd_backup": {"schedule": "*-*-* 00/6:00:00", "keep": 12},
                       "upgrade": {"worker_batch": "2", "drain_timeout": 120}},
        "network": {"cidr": "10.0.0.0/16", "azs": 2, "az_names": ["ap-northeast-2a", "ap-northeast-2c"],
                    "tiers": ["public", "app", "data", "mgmt", "mq"], "nat": "single", "admin_cidrs": ["203.0.113.0/24"],
                    "access": "vpn", "vpn": {"client_cidr": "10.250.0.0/24", "users": ["alice"]}},
        "pools": [
            {"name": "cp", "role": "control_plane", "instance_type": "t3.medium", "tier": "app"},
            {"name": "general", "role": "worker", "instance_type": "t3.large", "labels": {"tier": "web"},
             "taints": [{"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}]},
            {"name": "auth", "role": "api", "api": "auth", "namespace": "auth-ns"},
            {"name": "pg", "role": "postgresql", "count": 2},
            {"name": "cache", "role": "redis", "count": 3},
            {"name": "mq", "role": "rabbitmq"},
            {"name": "kafka", "role": "kafka", "count": 3},
            {"name": "mon", "role": "monitoring"},
            {"name": "jenkins", "role": "ci"},
        ],
        "services": {
            "postgresql": {"databases": [{"name": "orders", "owner": "orders_app"}]},
            "redis": {"maxmemory_policy": "allkeys-lru", "sentinel": {"enabled": True, "master_name": "shop-cache"}},
            "rabbitmq": {"vhosts": ["/", "shop"]},
            "kafka": {"version": "3.7.2"},
            "monitoring": {"retention": "30d", "scrape_interval": "15s"},
            "ci": {"version": "2.541.3", "url": "https://ci.shop.example/", "admin_user": "ci-admin", "plugins": ["git"]},
        },
        # cluster add-ons (issue 16)
        "ingress": {"scheme": "internet-facing", "health_check_path": "/healthz", "source_cidrs": ["198.51.100.0/24"],
                    "certificate_arn": "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f4c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
                    "services": [{"name": "web", "namespace": "orders-ns", "port": 80, "target_port": 3000}],
                    "routes": [{"path": "/", "service": "web"}, {"path": "/auth", "service": "auth", "port": 8080, "target_port": 8080}]},
        "domains": [
            {"name": "orders", "namespace": "orders-ns", "pod_security": "restricted", "ports": [8080], "metrics_port": 9102,
             "quota": {"requests_cpu": "2", "requests_memory": "4Gi", "limits_cpu": "4", "limits_memory": "8Gi", "pods": 20,
                       "requests_storage": "20Gi"},
             "limits": {"default_cpu": "250m", "default_memory": "256Mi", "default_request_cpu": "50m", "default_request_memory": "64Mi",
                        "max_cpu": "1", "max_memory": "1Gi"},
             "reach": {"domains": ["billing"], "services": ["postgresql"], "internet": True},
             "ecr": {"repositories": ["order-api"]},
             "bucket": {"suffix": "docs", "lifecycle": [{"id": "docs-7y", "prefix": "documents/", "expire_days": 2555}]},
             "database": {"name": "order_db", "owner": "order_app"}},
            {"name": "billing"},
        ],
        "gitops": {"repo_url": "https://git.example.com/shop/deploy.git", "revision": "main", "path": "apps", "mode": "applicationset",
                   "tool": "helm", "namespace": "argocd", "project": "shop"},
        "storage": {"class_name": "ebs-gp3", "type": "gp3", "encrypted": True, "reclaim_policy": "Retain", "demote": ["standard"],
                    "kms_key_arn": "arn:aws:kms:ap-northeast-2:123456789012:key/0f4c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"},
    }


def full_eks() -> dict:
    """A valid EKS topology that gives every eks-only string field a value."""
    return {
        "name": "shop",
        "region": "us-east-1",
        "kubernetes": {"mode": "eks", "version": "1.35", "endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/24"],
                       "logging": ["api", "audit"], "admin_principals": ["arn:aws:iam::123456789012:role/platform-admins"]},
        "network": {"admin_cidrs": ["203.0.113.0/24"]},
        "pools": [
            {"name": "general", "role": "worker", "count": 2, "capacity_type": "SPOT", "ami_type": "AL2023_x86_64_STANDARD"},
            {"name": "orders", "role": "api", "count": 2, "max_size": 4},
        ],
        # managed data services: every string field of the managed settings
        "services": {
            "postgresql": {"managed": True, "instance_class": "db.r7g.large", "master_username": "shop_admin", "master_password": "user",
                           "databases": [{"name": "orders", "owner": "orders_app"}]},
            "redis": {"managed": True, "engine": "redis", "engine_version": "7.1", "node_type": "cache.r7g.large"},
        },
        "domains": [{"name": "order", "ecr": {"repositories": ["order-api"]}, "iam": {"service_account": "order-sa"}}],
    }
