# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict YAML reading of the topology (and any vars file): every problem as `file:line:column: message`.

ansible-core reports a YAML error in group_vars without the file or the line, and keeps the last of
two equal keys with only a warning, so `name: a` followed by `name: b` silently wins. `check_text`
parses with PyYAML's safe loader, rejects duplicate keys (all of them are reported, merge keys `<<`
still override as YAML defines), and turns syntax errors into one line that names the file, the
line, the column and, for an unclosed bracket or quote, where it was opened. Ansible's own tags
(`!unsafe`, `!vault`) are accepted so that any vars file can be checked.
"""
from __future__ import annotations

try:
    import yaml
except ImportError:  # the controller always has PyYAML (ansible-core needs it)
    yaml = None

VAULT_HEADER = "$ANSIBLE_VAULT;"
_ANSIBLE_TAGS = ("!unsafe", "!vault", "!vault-encrypted")


def _where(path: str, mark) -> str:
    return f"{path}:{mark.line + 1}:{mark.column + 1}"


if yaml is not None:
    class _StrictLoader(yaml.SafeLoader):
        """SafeLoader that records duplicate keys instead of letting the last one win."""

        def __init__(self, stream, path: str):
            super().__init__(stream)
            self.path = path
            self.problems = []

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen = {}
                for key_node, _value in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        first = seen.setdefault(key, key_node.start_mark)
                    except TypeError:  # an unhashable key: SafeLoader reports it below
                        continue
                    if first is not key_node.start_mark:
                        mark = key_node.start_mark
                        self.problems.append((mark.line, mark.column, f"{_where(self.path, mark)}: duplicate key {key!r} (first at line "
                                             f"{first.line + 1}, column {first.column + 1}); YAML keeps only one of them, remove the other"))
            return super().construct_mapping(node, deep=deep)

    def _ansible_tag(loader, node):
        return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None

    for _tag in _ANSIBLE_TAGS:
        _StrictLoader.add_constructor(_tag, _ansible_tag)


def _syntax_problem(path: str, text: str, err) -> str:
    mark = getattr(err, "problem_mark", None)
    if mark is None:
        return f"{path}: {err}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    tab = line.find("\t")
    if tab >= 0 and (tab <= mark.column or "\t" in line[:len(line) - len(line.lstrip())]):
        return f"{path}:{mark.line + 1}:{tab + 1}: a tab character; YAML indents with spaces only, replace the tab by spaces"
    problem = err.problem or "invalid YAML"
    context = getattr(err, "context", None)
    context_mark = getattr(err, "context_mark", None)
    opened = ""
    if context and context_mark is not None and (context_mark.line, context_mark.column) != (mark.line, mark.column):
        opened = f" ({context} opened at line {context_mark.line + 1}, column {context_mark.column + 1})"
    hint = ""
    if "escape" in problem:
        hint = "; in double quotes a backslash starts an escape (\\n, \\t, \\\\): use single quotes for a literal backslash"
    return f"{_where(path, mark)}: {problem}{opened}{hint}"


def check_text(text: str, path: str):
    """(data, problems) of one YAML document; data is None when there is any problem."""
    if yaml is None:
        return None, [f"{path}: cannot be checked: PyYAML is not installed"]
    if text.lstrip().startswith(VAULT_HEADER):
        return None, []  # a vaulted file: ansible decrypts and reads it, there is nothing to check here
    loader = _StrictLoader(text, path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        return None, [_syntax_problem(path, text, err)]
    except yaml.YAMLError as err:
        return None, [f"{path}: {err}"]
    finally:
        loader.dispose()
    if loader.problems:
        return None, [problem for _line, _column, problem in sorted(loader.problems)]
    return data, []


def check_file(path: str):
    """(data, problems) of a YAML file; an unreadable file is a problem too."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        return None, [f"{path}: cannot be read: {err}"]
    return check_text(text, path)
