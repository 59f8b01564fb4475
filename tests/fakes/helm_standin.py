"""A stand-in for the `helm` v3 CLI, for the add-ons layer's tests (no helm binary can be had here).

Run it as `python helm_standin.py ARGS` (tests put a two-line shell wrapper named helm in front of it).

It answers the commands kubernetes.core.helm runs - `version`, `plugin list`, `list --output=yaml
--filter NAME [--all]`, `get values --output=yaml NAME`, `show chart CHART --version V --repo URL`,
`upgrade -i ... NAME CHART` and `uninstall NAME` - and checks them as strictly as helm does: unknown
flags and commands fail, a chart must exist in its repository at the requested version (a catalogue of
real published (repo, chart, version, appVersion) facts below), release names follow helm's rules,
`-f`/`--values` files must parse as YAML maps (merged in order, as helm merges them), `--timeout` must
be a Go duration, and KUBECONFIG must name a readable kubeconfig. Our own policy on top: every
install pins `--version`.

Releases live in $HELM_STANDIN_DIR/releases.json keyed by (API server, namespace, name) - helm keeps
them as Secrets in the release namespace - with revisions, status `deployed` and the user-supplied
values, so `list` / `get values` make kubernetes.core.helm idempotent. Every call is appended to
$HELM_STANDIN_DIR/calls.jsonl (argv, parsed command, values) for the tests to assert on.

What it does not do: render or apply the chart's manifests (nothing reaches the cluster), wait for
readiness, hooks, OCI registries, plugins.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

VERSION = 'version.BuildInfo{Version:"v3.16.2", GitCommit:"13654a52f7c70a143b1dd51416d633e1071faffb", GitTreeState:"clean", GoVersion:"go1.22.7"}'
# (repository URL, chart) -> {chart version: appVersion}, as the repositories' index.yaml publish them.
CATALOGUE = {
    ("https://aws.github.io/eks-charts", "aws-load-balancer-controller"): {"1.14.0": "v2.14.0", "1.13.0": "v2.13.0"},
    ("https://kubernetes-sigs.github.io/aws-ebs-csi-driver", "aws-ebs-csi-driver"): {"2.36.0": "1.36.0", "2.17.0": "1.16.0"},
    ("https://kubernetes-sigs.github.io/metrics-server", "metrics-server"): {"3.12.2": "0.7.2", "3.8.1": "0.6.1"},
    ("https://argoproj.github.io/argo-helm", "argo-cd"): {"8.5.0": "v3.1.5", "7.7.14": "v2.13.3"},
    ("https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack"): {"65.1.1": "v0.77.1"},
}
RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")
# flag -> takes a value; per command
GLOBAL_FLAGS = {"--namespace": True, "-n": True, "--kubeconfig": True, "--kube-context": True, "--debug": False}
FLAGS = {
    ("version",): {},
    ("plugin", "list"): {},
    ("list",): {"--output": True, "-o": True, "--filter": True, "--all": False, "-a": False},
    ("get", "values"): {"--output": True, "-o": True, "--all": False, "-a": False, "--revision": True},
    ("show", "chart"): {"--version": True, "--repo": True, "--insecure-skip-tls-verify": False},
    ("upgrade",): {"--install": False, "-i": False, "--version": True, "--repo": True, "--values": True, "-f": True,
                   "--wait": False, "--timeout": True, "--create-namespace": False, "--reset-values": False,
                   "--reuse-values": True, "--atomic": False, "--history-max": True, "--skip-crds": False},
    ("uninstall",): {"--wait": False, "--timeout": True, "--keep-history": False},
}


class HelmError(Exception):
    pass


def parse(argv: list[str]) -> tuple[tuple[str, ...], dict[str, list[str]], list[str]]:
    """(command, {flag: [values]}, positionals); flags may come before the command, as cobra allows."""
    words = [a for a in argv if not a.startswith("-")]
    command = next((c for c in sorted(FLAGS, key=len, reverse=True) if _starts(words, c)), None)
    if command is None:
        raise HelmError(f'unknown command "{words[0] if words else ""}" for "helm"')
    allowed = {**GLOBAL_FLAGS, **FLAGS[command]}
    flags: dict[str, list[str]] = {}
    positionals: list[str] = []
    skip = list(command)
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            if name not in allowed:
                raise HelmError(f"unknown flag: {name}")
            if allowed[name] and not eq:
                if index >= len(argv):
                    raise HelmError(f"flag needs an argument: {name}")
                value = argv[index]
                index += 1
            elif not allowed[name] and eq and value.lower() not in ("true", "false"):
                raise HelmError(f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": invalid syntax')
            flags.setdefault(name, []).append(value if allowed[name] else (value or "true"))
        elif skip and arg == skip[0]:
            skip.pop(0)
        else:
            positionals.append(arg)
    return command, flags, positionals


def _starts(words: list[str], command: tuple[str, ...]) -> bool:
    return tuple(words[:len(command)]) == command


def one(flags: dict, *names: str) -> str | None:
    values = [v for n in names for v in flags.get(n, [])]
    return values[-1] if values else None


def cluster() -> tuple[str, str]:
    """(API server URL, bearer token) of the kubeconfig's current context."""
    path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        context_name = config["current-context"]
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        user = next((u["user"] for u in config.get("users", []) if u["name"] == context.get("user")), {})
        server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == context["cluster"])
        return server, user.get("token", "")
    except (OSError, yaml.YAMLError, KeyError, StopIteration, TypeError) as exc:
        raise HelmError(f"Kubernetes cluster unreachable: invalid kubeconfig {path}: {exc}") from exc


def server() -> str:
    return cluster()[0]


def create_namespace(namespace: str) -> None:
    """What `--create-namespace` does: create the Namespace, fine if it exists (409)."""
    url, token = cluster()
    body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}).encode()
    request = urllib.request.Request(f"{url}/api/v1/namespaces", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:
            raise HelmError(f"create: failed to create: {exc.read().decode(errors='replace')}") from exc
    except OSError as exc:
        raise HelmError(f"Kubernetes cluster unreachable: {exc}") from exc


def state_dir() -> Path:
    where = os.environ.get("HELM_STANDIN_DIR")
    if not where:
        raise HelmError("HELM_STANDIN_DIR is not set (the stand-in keeps its releases there)")
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_releases() -> dict:
    path = state_dir() / "releases.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_releases(releases: dict) -> None:
    (state_dir() / "releases.json").write_text(json.dumps(releases, indent=1, sort_keys=True), encoding="utf-8")


def chart_of(name: str, version: str | None, repo: str | None) -> tuple[str, str]:
    if not repo:
        raise HelmError(f'repo {name.split("/")[0]} not found (this stand-in resolves charts by --repo only)')
    versions = CATALOGUE.get((repo.rstrip("/"), name))
    if versions is None:
        raise HelmError(f'chart "{name}" not found in {repo} repository')
    if version is None:
        raise HelmError(f'chart "{name}": --version is required (every install is pinned)')
    if version not in versions:
        raise HelmError(f'chart "{name}" version "{version}" not found in {repo} repository')
    return version, versions[version]


def deep_merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def read_values(paths: list[str]) -> dict:
    values: dict = {}
    for path in paths:
        try:
            content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise HelmError(f"open {path}: no such file or directory") from exc
        except yaml.YAMLError as exc:
            raise HelmError(f"failed to parse {path}: error converting YAML to JSON: {exc}") from exc
        if content is None:
            continue
        if not isinstance(content, dict):
            raise HelmError(f"failed to parse {path}: error unmarshaling JSON: cannot unmarshal into Go value of type map[string]interface {{}}")
        values = deep_merge(values, content)
    return values


def run(argv: list[str]) -> tuple[str, dict]:
    command, flags, args = parse(argv)
    namespace = one(flags, "--namespace", "-n") or os.environ.get("HELM_NAMESPACE") or "default"
    record: dict = {"argv": argv, "command": " ".join(command), "namespace": namespace}
    if command == ("version",):
        return VERSION + "\n", record
    if command == ("plugin", "list"):
        return "NAME\tVERSION\tDESCRIPTION\n", record
    if command == ("show", "chart"):
        (name,) = expect(args, 1, "show chart CHART")
        version, app = chart_of(name, one(flags, "--version"), one(flags, "--repo"))
        return yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version, "appVersion": app}), record
    key_prefix = f"{server()}|{namespace}|"
    releases = load_releases()
    if command == ("list",):
        output = one(flags, "--output", "-o") or "table"
        if output not in ("yaml", "json"):
            raise HelmError("this stand-in prints --output yaml or json only")
        pattern = re.compile(one(flags, "--filter") or "")
        shown = [r for k, r in sorted(releases.items()) if k.startswith(key_prefix) and pattern.search(r["name"])
                 and (r["status"] == "deployed" or one(flags, "--all", "-a"))]
        rows = [{k: r[k] for k in ("name", "namespace", "revision", "updated", "status", "chart", "app_version")} for r in shown]
        return (yaml.safe_dump(rows) if output == "yaml" else json.dumps(rows) + "\n"), record
    if command == ("get", "values"):
        (name,) = expect(args, 1, "get values RELEASE_NAME")
        release = releases.get(key_prefix + name)
        if release is None:
            raise HelmError("release: not found")
        return (yaml.safe_dump(release["values"]) if release["values"] else "null\n"), record
    if command == ("uninstall",):
        (name,) = expect(args, 1, "uninstall RELEASE_NAME")
        if releases.pop(key_prefix + name, None) is None:
            raise HelmError(f"uninstall: Release not loaded: {name}: release: not found")
        save_releases(releases)
        record["release"] = name
        return f'release "{name}" uninstalled\n', record
    # upgrade
    name, chart = expect(args, 2, "upgrade [RELEASE] [CHART]")
    if not RELEASE_NAME.match(name) or len(name) > 53:
        raise HelmError(f'invalid release name "{name}": names must be lowercase DNS-1123 labels of at most 53 characters')
    timeout = one(flags, "--timeout")
    if timeout is not None and not DURATION.match(timeout):
        raise HelmError(f'invalid argument "{timeout}" for "--timeout" flag: time: invalid duration "{timeout}"')
    existing = releases.get(key_prefix + name)
    if existing is None and not one(flags, "--install", "-i"):
        raise HelmError(f'"{name}" has no deployed releases')
    version, app = chart_of(chart, one(flags, "--version"), one(flags, "--repo"))
    values = read_values(flags.get("--values", []) + flags.get("-f", []))
    if one(flags, "--create-namespace"):
        create_namespace(namespace)
    releases[key_prefix + name] = {
        "name": name, "namespace": namespace, "revision": str(int(existing["revision"]) + 1 if existing else 1),
        "updated": time.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000 UTC", time.gmtime()), "status": "deployed",
        "chart": f"{chart}-{version}", "app_version": app, "values": values,
    }
    save_releases(releases)
    record.update(release=name, chart=chart, version=version, repo=one(flags, "--repo"), values=values,
                  create_namespace=bool(one(flags, "--create-namespace")), wait=bool(one(flags, "--wait")),
                  timeout=timeout, install=existing is None)
    return f'Release "{name}" has been {"upgraded" if existing else "installed"}. Happy Helming!\n', record


def expect(args: list[str], count: int, usage: str) -> list[str]:
    if len(args) != count:
        raise HelmError(f'"helm {usage}" requires {count} argument{"s" if count > 1 else ""}, got {len(args)}: {args}')
    return args


def main(argv: list[str]) -> int:
    try:
        out, record = run(argv)
    except HelmError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    if os.environ.get("HELM_STANDIN_DIR"):
        with (state_dir() / "calls.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
