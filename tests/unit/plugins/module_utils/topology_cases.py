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
