# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate expiry of a kubeadm control plane, from `kubeadm certs check-expiration`.

The text output (kubeadm 1.2x-1.3x) is two tables separated by a blank line:

    CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
    admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no
    !MISSING! front-proxy-client
    CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
    ca                      Aug 17, 2035 09:03 UTC   9y              no

preceded by `[check-expiration] ...` log lines. EXPIRES is Go's "Jan 02, 2006 15:04 MST" in UTC;
RESIDUAL TIME is informative only (`<invalid>` once expired), so days are computed from EXPIRES.
"""
from __future__ import annotations

import datetime
import re

WARN_DAYS = 30
_ROW = re.compile(
    r"(?P<name>\S+)\s+(?P<expires>[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC)\s+(?P<residual>\S+)\s+"
    r"(?:(?P<authority>\S+)\s+)?(?P<external>yes|no)")
_MISSING = re.compile(r"!MISSING!\s+(?P<name>\S+)")


class ParseError(ValueError):
    pass


def _utc(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%b %d, %Y %H:%M UTC").replace(tzinfo=datetime.UTC)


def parse_check_expiration(stdout, node: str = "", now=None) -> list:
    """Rows of both tables as dicts {node, name, kind: certificate|authority, expires (ISO 8601 UTC or
    None when missing), days_left (int, negative once expired, None when missing), authority,
    externally_managed, missing}. Raise ParseError when the output has no certificate table."""
    if not isinstance(stdout, str):
        raise ParseError(f"kubeadm certs check-expiration output must be text, got {type(stdout).__name__}")
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    rows, kind = [], None
    for line in stdout.splitlines():
        head = line.split()
        if head[:2] == ["CERTIFICATE", "EXPIRES"]:
            kind = "certificate"
            continue
        if head[:3] == ["CERTIFICATE", "AUTHORITY", "EXPIRES"]:
            kind = "authority"
            continue
        if kind is None or not line.strip():
            continue
        missing = _MISSING.fullmatch(line.strip())
        if missing:
            rows.append({"node": node, "name": missing.group("name"), "kind": kind, "expires": None, "days_left": None,
                         "authority": None, "externally_managed": False, "missing": True})
            continue
        match = _ROW.fullmatch(line.strip())
        if not match:
            raise ParseError(f"{node or 'kubeadm'}: unexpected line in check-expiration output: {line.strip()!r}")
        expires = _utc(match.group("expires"))
        rows.append({"node": node, "name": match.group("name"), "kind": kind,
                     "expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "days_left": (expires - now).days, "authority": match.group("authority"),
                     "externally_managed": match.group("external") == "yes", "missing": False})
    if not any(r["kind"] == "certificate" for r in rows):
        raise ParseError(f"{node or 'kubeadm'}: no CERTIFICATE table in check-expiration output")
    return rows


def expiring(rows: list, days: int = WARN_DAYS) -> list:
    """Rows that need attention: missing, or under `days` days left (externally managed included)."""
    return [r for r in rows if r["missing"] or r["days_left"] < days]


def warning(rows: list, days: int = WARN_DAYS) -> str:
    """One line per expiring certificate, '' when none."""
    lines = []
    for r in expiring(rows, days):
        what = "is MISSING" if r["missing"] else (
            f"EXPIRED on {r['expires']}" if r["days_left"] < 0 else f"expires in {r['days_left']} days ({r['expires']})")
        lines.append(f"{r['node']}: {r['name']} {what}")
    if lines:
        lines.append("Renew with: ansible-playbook playbooks/renew-certs.yml -i inventories/<env> (docs/operations.md)")
    return "\n".join(lines)
