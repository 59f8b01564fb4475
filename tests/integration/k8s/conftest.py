"""Fixtures for the Kubernetes node modules: the API fake on 127.0.0.1 and a kubeconfig for it."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from k8s_harness import kube_api, run_module


@pytest.fixture
def kube() -> Iterator[kube_api.KubeApiFake]:
    """A fresh API fake (see tests/fakes/kube_api.py) with one admin token."""
    with kube_api.serve() as fake:
        yield fake


@pytest.fixture
def kubeconfig(kube: kube_api.KubeApiFake, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def module(kubeconfig: Path) -> Callable[..., dict]:
    """``module(name, check=False, diff=False, **args)``: run a module against the fake."""
    def run(name: str, check: bool = False, diff: bool = False, **args) -> dict:
        return run_module(name, dict({"kubeconfig": str(kubeconfig)}, **args), check=check, diff=diff)
    return run
