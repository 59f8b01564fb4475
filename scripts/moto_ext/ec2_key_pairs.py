"""EC2 fidelity fix: ImportKeyPair reports the fingerprint the EC2 API reference documents.

For an imported key EC2 reports, for RSA, the MD5 of the OpenSSH key blob as colon-separated hex (RFC 4716 section 4)
and, for ED25519, the base64 SHA-256 of the blob; moto 5.2 hashes the DER SubjectPublicKeyInfo instead, so a client
that computes the documented fingerprint locally (aws_compute) would see every key as changed.
"""
from __future__ import annotations

import base64
import hashlib

from moto.ec2.models import key_pairs

_original_import = key_pairs.KeyPairBackend.import_key_pair


def _documented(material) -> str:
    text = material.decode() if isinstance(material, bytes) else str(material)
    kind, blob = text.split()[0], base64.b64decode(text.split()[1])
    if kind == "ssh-ed25519":
        return base64.b64encode(hashlib.sha256(blob).digest()).decode()
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _import_key_pair(self, key_name, public_key_material, tags):
    pair = _original_import(self, key_name, public_key_material, tags)   # refuses duplicates and bad material first
    pair.key_fingerprint = _documented(public_key_material)
    return pair


def apply() -> None:
    if key_pairs.KeyPairBackend.import_key_pair is not _import_key_pair:
        key_pairs.KeyPairBackend.import_key_pair = _import_key_pair
