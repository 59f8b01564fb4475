"""Fixtures of the AWS layer tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def network_emulator(aws):
    """A clean emulator for one test (its URL): the session emulator, reset before and after."""
    return aws
