"""Unit tests import the collection as `ansible_collections.msa.platform...`: put the link on sys.path."""
from __future__ import annotations

import sys
from pathlib import Path

_COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".cache" / "collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)


import pytest  # noqa: E402 (after the path set-up above)


@pytest.fixture
def moto_in_process(monkeypatch):
    """moto's in-process mock with test credentials and no emulator endpoint (so boto3 clients stay in this process)."""
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield
