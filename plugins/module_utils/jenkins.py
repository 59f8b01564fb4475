# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jenkins plugin sets from an update center answer (update-center.actual.json, or the JSONP update-center.json).

``plugin_set(update_center, wanted, core)`` gives the wanted plugins plus their required (non-optional)
dependencies, transitively, each as the update center lists it: name, version, download URL and SHA-256 (hex; the
update center gives it base64). Problems are collected and raised together as ValueError, each naming the plugin.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Dict, List

_JSONP = re.compile(r"\s*updateCenter\.post\(\s*(.*)\s*\);?\s*", re.S)


def parse(text: Any) -> Dict[str, Any]:
    """The update center as data, from a mapping, its JSON or its JSONP form."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        raise ValueError(f"update center: expected JSON text, got {type(text).__name__}")
    match = _JSONP.fullmatch(text)
    try:
        data = json.loads(match.group(1) if match else text)
    except ValueError as err:
        raise ValueError(f"update center: not JSON ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("plugins"), dict):
        raise ValueError("update center: no 'plugins' mapping in the answer")
    return data


def version_key(version: str) -> tuple:
    """Order of dotted numeric versions (2.541.3 < 2.545); non-numeric parts compare after numbers."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.-]", str(version)))


def hex_sha256(value: str, name: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"update center: plugin {name!r} has no valid sha256 (got {value!r})")
    return raw.hex()


def plugin_set(update_center: Any, wanted: List[str], core: str) -> List[Dict[str, str]]:
    """Wanted plugins and their required dependencies, in resolution order, each {name, version, url, sha256}."""
    plugins = parse(update_center)["plugins"]
    problems: List[str] = []
    out: List[Dict[str, str]] = []
    seen = set()
    queue = [(name, "jenkins_plugins") for name in wanted]
    while queue:
        name, why = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        entry = plugins.get(name)
        if not isinstance(entry, dict):
            problems.append(f"plugin {name!r} ({why}) is not in the update center for Jenkins {core}")
            continue
        required = entry.get("requiredCore")
        if required and version_key(required) > version_key(core):
            problems.append(f"plugin {name!r} {entry.get('version')} ({why}) needs Jenkins {required}, newer than {core}")
            continue
        try:
            sha = hex_sha256(entry.get("sha256", ""), name)
        except ValueError as err:
            problems.append(str(err))
            continue
        out.append({"name": name, "version": str(entry["version"]), "url": entry["url"], "sha256": sha})
        for dep in entry.get("dependencies") or []:
            if not dep.get("optional"):
                queue.append((dep["name"], f"needed by {name}"))
                have = plugins.get(dep["name"])
                if isinstance(have, dict) and version_key(have.get("version", "0")) < version_key(dep.get("version", "0")):
                    problems.append(f"plugin {dep['name']!r}: {name} needs {dep.get('version')}, the update center offers {have.get('version')}")
    if problems:
        raise ValueError("; ".join(problems))
    return out
