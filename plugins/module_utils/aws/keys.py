# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fingerprint EC2 reports for a key pair imported from an OpenSSH public key, computed locally.

EC2 API reference, KeyPairInfo.keyFingerprint, for ImportKeyPair: an RSA key's fingerprint is the MD5 public key
fingerprint of RFC 4716 section 4 (MD5 of the key blob, the base64 part of the OpenSSH line decoded, as colon-separated
hex); an ED25519 key's is the base64-encoded SHA-256 digest of the blob (OpenSSH 6.8's default). Comparing this with
DescribeKeyPairs' answer tells whether the key pair holds this key, without importing a temporary copy to find out.
"""
from __future__ import annotations

import base64
import binascii
import hashlib

_TYPES = {"ssh-rsa": "rsa", "ssh-ed25519": "ed25519"}


def imported_fingerprint(public_key: str) -> str:
    """EC2's fingerprint of an OpenSSH public key line ("ssh-ed25519 AAAA... comment"); '' when it is not one EC2 imports."""
    if not isinstance(public_key, str):
        return ""
    parts = public_key.strip().split()
    if len(parts) < 2 or parts[0] not in _TYPES:
        return ""
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return ""
    if _TYPES[parts[0]] == "rsa":
        digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
    return base64.b64encode(hashlib.sha256(blob).digest()).decode()


def same_fingerprint(reported: str, public_key: str) -> bool:
    """Whether EC2's reported fingerprint is this key's (base64 padding and hex case aside)."""
    mine = imported_fingerprint(public_key)
    return bool(mine) and isinstance(reported, str) and reported.rstrip("=").lower() == mine.rstrip("=").lower()
