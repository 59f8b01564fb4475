"""Unit tests import the collection as `ansible_collections.msa.platform...`: put the link on sys.path."""
from __future__ import annotations

import sys
from pathlib import Path

_COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".cache" / "collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
