"""Render the kubeadm role's templates in Python, with the role's own defaults and vars/main.yml.

A small Jinja environment stands in for Ansible's templar: the Ansible filters the role uses
(to_nice_yaml, to_json, from_json, combine, extract) and the collection's own filters
(plugins/filter/kubeadm.py). Variables are resolved lazily, as Ansible does: a value that is a
template is rendered (to a native Python value) when a template reads it.
"""
from __future__ import annotations

import json
from pathlib import Path

import jinja2
import yaml
from ansible_collections.msa.platform.plugins.filter.kubeadm import FilterModule
from jinja2.nativetypes import NativeEnvironment

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "kubeadm"


def _combine(*dicts):
    out = {}
    for item in dicts:
        out.update(item)
    return out


def _extract(key, container, morekeys=None):
    value = container[key]
    for more in ([morekeys] if isinstance(morekeys, str) else morekeys or []):
        value = value[more]
    return value


def _setup(env):
    env.filters.update({
        "to_nice_yaml": lambda v, indent=2, sort_keys=True: yaml.safe_dump(v, indent=indent, sort_keys=sort_keys,
                                                                           default_flow_style=False),
        "to_json": json.dumps, "from_json": json.loads, "from_yaml": yaml.safe_load,
        "combine": _combine, "extract": _extract, "zip": lambda *lists: list(zip(*lists, strict=False)),
    })
    env.filters.update({f"msa.platform.{k}": v for k, v in FilterModule().filters().items()})
    return env


FILES = _setup(jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, keep_trailing_newline=True))
NATIVE = _setup(NativeEnvironment(undefined=jinja2.StrictUndefined))


class Vars(dict):
    """Variables of one host; templated values are rendered when read (also when Jinja copies the
    context for an {% include %}: overriding __iter__ makes dict() go through __getitem__)."""

    def __iter__(self):
        return iter(list(self.keys()))

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if isinstance(value, str) and "{{" in value:
            cache = self.__dict__.setdefault("_rendered", {})
            if key not in cache:
                tmpl = NATIVE.from_string(value.strip())
                cache[key] = NATIVE.concat(tmpl.root_render_func(tmpl.new_context(self, shared=True)))  # type: ignore[attr-defined]
            return cache[key]
        return value


def host_vars(inventory: dict, host: str, states: dict, **inputs) -> Vars:
    """Variables of `host` in a play over inventory {host: {hostvars...,'groups': [...]}}."""
    hosts = list(inventory)
    groups = {}
    for name, hv in inventory.items():
        for group in hv.get("groups", []):
            groups.setdefault(group, []).append(name)
    hostvars = {h: dict(hv, __kubeadm_state={"stdout": json.dumps(states[h])}) for h, hv in inventory.items()}
    out = Vars()
    out.update(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    out.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    out.update(inputs)
    out.update(hostvars[host])
    out.update(dict=dict, inventory_hostname=host, hostvars=hostvars, groups=groups, ansible_play_hosts=hosts,
               ansible_play_hosts_all=hosts, playbook_dir=str(ROOT / "playbooks"))
    return out


def render(name: str, variables: Vars, **extra) -> str:
    tmpl = FILES.get_template(name)
    ctx = Vars(variables)
    ctx.update(extra)
    return FILES.concat(tmpl.root_render_func(tmpl.new_context(ctx, shared=True)))  # type: ignore[attr-defined]


def docs(text: str) -> dict:
    """YAML documents by kind."""
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}
