# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One check of module arguments, used by every module of the collection right after it is built.

Ansible's own argument checks convert more than they refuse: a list or a mapping given to a ``str``
option becomes its Python repr, ``5`` given to a ``list`` option becomes ``["5"]``, ``True`` given to
an ``int`` option becomes ``1``, and a value ending in a newline passes every ``$``-anchored
pattern. ``check_arguments`` closes those holes for every option of a module's argument spec
(nested ``options`` included), then applies the module's own rules (ranges, name syntax), and ends
the module with ``fail_json`` naming each bad option, before any request is made:

- the value as the task gave it (read again with ``_load_params``) must have the declared type:
  a string for ``str`` / ``path`` options (and elements), a list (or a comma-separated string) for
  ``list`` options, an integer (not a boolean) for ``int`` options;
- no string, after conversion, may hold a control character (a trailing newline included);
- ``rules`` maps an option to a function returning why its (converted) value is wrong, or "".

Messages never show the value of a ``no_log`` option. Patterns here use ``re.fullmatch``.
"""

from __future__ import annotations

import re

from ansible.module_utils import basic

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s]*)?")
_STRING_TYPES = ("str", "path")


def control_problem(value):
    """'' when the string ``value`` holds no control character, else why (newline named)."""
    # finditer: the scan of the plugins for partial matches allows no search or match calls at all.
    found = next(_CONTROL.finditer(value), None)
    if not found:
        return ""
    what = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}.get(found.group(), "a control character")
    where = " at the end" if found.start() == len(value) - 1 else ""
    return f"contains {what}{where}; remove it"


def _type_name(value):
    return "mapping" if isinstance(value, dict) else "list" if isinstance(value, list) else type(value).__name__


def _show(name, value, secret):
    return name if secret else f"{name} {value!r}"


def _raw_value(raw, name, option):
    for key in [name, *list(option.get("aliases") or [])]:
        if isinstance(raw, dict) and raw.get(key) is not None:
            return raw[key]
    return None


def type_errors(spec, raw, params, prefix=""):
    """``(option, message)`` for each problem of type or of control characters in ``params`` (converted)
    against ``raw`` (as given); ``option`` is the top-level option name."""
    errors = []
    for name, option in spec.items():
        path = prefix + name
        top = prefix.split(".", 1)[0] or name
        given = _raw_value(raw, name, option)
        value = params.get(name) if isinstance(params, dict) else None
        secret = bool(option.get("no_log"))
        kind = option.get("type", "str")
        if given is not None:
            problem = ""
            if kind in _STRING_TYPES and not isinstance(given, str):
                problem = f"must be a string, got {_type_name(given)}"
            elif kind == "int" and isinstance(given, bool):
                problem = "must be an integer, got bool"
            elif kind == "list" and not isinstance(given, (list, str)):
                problem = f"must be a list, got {_type_name(given)}"
            elif kind == "list" and option.get("elements") in _STRING_TYPES and isinstance(given, list):
                wrong = [f"[{index}] is a {_type_name(item)}" for index, item in enumerate(given) if not isinstance(item, str)]
                problem = ("every element must be a string; " + ", ".join(wrong)) if wrong else ""
            if problem:
                errors.append((top, f"{path}: {problem}"))
                continue
        if isinstance(value, str) and kind in (*_STRING_TYPES, "raw"):
            problem = control_problem(value)
            if problem:
                errors.append((top, f"{_show(path, value, secret)}: {problem}"))
        elif isinstance(value, list) and option.get("elements") in _STRING_TYPES:
            errors.extend((top, f"{_show(f'{path}[{index}]', item, secret)}: {control_problem(item)}")
                          for index, item in enumerate(value) if isinstance(item, str) and control_problem(item))
        if option.get("options") and isinstance(value, dict):
            errors.extend(type_errors(option["options"], given, value, prefix=f"{path}."))
    return errors


def module_spec(module):
    """The full argument spec of an AnsibleModule or of an AnsibleAWSModule (common AWS options included)."""
    inner = getattr(module, "_module", None)
    return getattr(module, "argument_spec", None) or getattr(inner, "argument_spec", {})


def argument_errors(spec, raw, params, rules=None):
    """Every problem, each a message starting with the option's name; an option with a type problem
    is not also given to its rule."""
    errors = type_errors(spec, raw, params)
    bad = set(option for option, _message in errors)
    messages = [message for _option, message in errors]
    for name, rule in (rules or {}).items():
        value = params.get(name)
        if value is None or name in bad:
            continue
        problem = rule(value)
        if problem:
            messages.append(f"{_show(name, value, bool(spec.get(name, {}).get('no_log')))}: {problem}")
    return messages


def check_arguments(module, rules=None):
    """End ``module`` with ``fail_json`` (msg and ``errors``, each naming its option) when an argument is bad."""
    raw = basic._load_params()  # pylint: disable=protected-access  # the arguments as given, before conversion
    errors = argument_errors(module_spec(module), raw, module.params, rules)
    if errors:
        module.fail_json(msg="invalid module arguments: " + "; ".join(errors), errors=errors)


def build_module(factory, argument_spec, rules=None, **kwargs):
    """``factory(argument_spec=..., **kwargs)`` (AnsibleModule or AnsibleAWSModule), then ``check_arguments``.

    ansible-core fails on a dict option with ``options`` given something else than a mapping: a
    TypeError for ``5``, a message naming no option for a string. Such an option is declared
    without its ``options`` for that run, so Ansible's own type check refuses it by name.
    """
    raw = basic._load_params()  # pylint: disable=protected-access
    spec = dict(argument_spec)
    for name, option in argument_spec.items():
        given = _raw_value(raw, name, option)
        if option.get("options") and given is not None and not isinstance(given, dict):
            spec[name] = dict((key, value) for key, value in option.items() if key != "options")
    module = factory(argument_spec=spec, **kwargs)
    check_arguments(module, rules)
    return module


# --- rules: each returns '' when the value is right, else why not -----------------------------------
def int_range(minimum, maximum=None):
    def rule(value):
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            return f"must be {'between' if upper else 'at least'} {minimum}{upper}, got {value}"
        return ""
    return rule


def non_empty(value):
    return "" if value else "must not be empty"


def each(rule):
    """A rule for every element of a list, the first problem reported with its index."""
    def check(values):
        for index, value in enumerate(values):
            problem = rule(value)
            if problem:
                return f"[{index}] {value!r} {problem}"
        return ""
    return check


def problem_of(problem_function, empty_ok=False):
    """A rule from a ``*_problem(value) -> ''|why`` function (topology_k8s / topology_net style)."""
    def rule(value):
        if not isinstance(value, str):
            return f"must be a string, got {_type_name(value)}"
        if value == "" and not empty_ok:
            return "must not be empty"
        return control_problem(value) or problem_function(value)
    return rule


def url(value):
    return "" if _URL.fullmatch(value) else "must be an http:// or https:// URL"


def path_or_mapping(value):
    """kubeconfig: a path (string) or the content of a kubeconfig (mapping)."""
    if isinstance(value, dict):
        return ""
    if isinstance(value, str):
        return non_empty(value) or control_problem(value)
    return f"must be a path (string) or a kubeconfig mapping, got {_type_name(value)}"
