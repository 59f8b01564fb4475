"""Fixtures shared by every test: the local AWS emulator and paths of the checkout.

Tests never reach a real AWS endpoint: AWS_ENDPOINT_URL points at moto on 127.0.0.1 for the whole
session, credentials are dummies, and a guard fails any test that finds them changed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import emulator  # noqa: E402  pylint: disable=wrong-import-position

# Before anything imports boto3: no real credentials or profiles may leak into a test.
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)
# One emulator per pytest-xdist worker, so parallel workers never reset each other's state.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
EMULATOR_PORT = emulator.DEFAULT_PORT + (1 + int(_WORKER[2:]) if _WORKER.startswith("gw") else 0)
os.environ.update(emulator.client_env(EMULATOR_PORT))
os.environ["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
# Each worker keeps its own fact cache: the jsonfile cache is not safe for two writers at once.
os.environ["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = str(ROOT / ".cache" / "pytest" / (_WORKER or "main") / "facts")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def aws_emulator():
    """moto_server on loopback for the whole session; yields its endpoint URL."""
    url = emulator.start(EMULATOR_PORT)
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    emulator.stop(EMULATOR_PORT)


@pytest.fixture
def aws(aws_emulator):  # pylint: disable=redefined-outer-name
    """A clean emulator for one test: every resource from earlier tests is forgotten."""
    emulator.reset(EMULATOR_PORT)
    yield aws_emulator
    emulator.reset(EMULATOR_PORT)
