# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boto3 client of one module run, shared by the RDS, ElastiCache and EKS modules.

`RecordingClient` puts amazon.aws's AWSRetry (jittered backoff, 8 retries, plus the service's own retryable codes)
on every call, records every mutating call in `calls` (the modules return it, and report `changed` from it), and
reads something absent as None (`describe`, on the service's "not found" codes) instead of an exception.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

try:
    from botocore.exceptions import ClientError
except ImportError:  # the modules report a missing botocore through AnsibleAWSModule before any call
    ClientError = Exception  # type: ignore[misc,assignment]


def error_code(err: Exception) -> str:
    return getattr(err, "response", {}).get("Error", {}).get("Code", "") if isinstance(err, ClientError) else ""


class RecordingClient:
    """client(service) of `module` with AWSRetry (`retry`: amazon.aws's AWSRetry, passed in so this file imports no
    Ansible code); `not_found`: the error codes that mean "absent" for `describe`."""

    def __init__(self, module: Any, service: str, retry: Any, retry_codes: Sequence[str] = (), not_found: Sequence[str] = ()):
        self.module = module
        self.client = module.client(service, retry_decorator=retry.jittered_backoff(retries=8, catch_extra_error_codes=list(retry_codes)))
        self.not_found = tuple(not_found)
        self.calls: List[str] = []

    def call(self, operation: str, **request: Any) -> Dict[str, Any]:
        return getattr(self.client, operation)(aws_retry=True, **request)

    def change(self, operation: str, label: str = "", **request: Any) -> Dict[str, Any]:
        """A mutating call, recorded as "operation" (or "operation label")."""
        self.calls.append(f"{operation} {label}" if label else operation)
        return self.call(operation, **request)

    def describe(self, operation: str, key: str, first: bool = False, **request: Any) -> Optional[Any]:
        """response[key] (its first item with `first`), or None when the service answers one of `not_found`."""
        try:
            found = self.call(operation, **request)[key]
        except ClientError as err:
            if error_code(err) in self.not_found:
                return None
            raise
        return (found[0] if found else None) if first else found
