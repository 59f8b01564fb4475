"""TEST STAND-IN for the Jenkins controller (molecule/jenkins): no jenkins.war can be had here.

It does what the real controller does with what the jenkins role gives it, and refuses what the real one refuses:
- /usr/bin/jenkins (the package's wrapper) has checked for a supported Java (17, 21, 25) before this runs;
- plugins: loads $JENKINS_HOME/plugins/*.jpi (their MANIFEST.MF: Short-Name, Plugin-Version, Plugin-Dependencies,
  Jenkins-Version); a plugin whose required dependency is missing, older, or that needs a newer core fails to load;
- the setup wizard runs (every request but /login refused) unless -Djenkins.install.runSetupWizard=false is in
  JAVA_OPTS; CASC_JENKINS_CONFIG (a file or a directory of *.yaml / *.yml) is read only when the
  configuration-as-code plugin loaded (without it the real Jenkins ignores the file and runs unsecured);
- JCasC: unknown root elements and unknown or ill-typed attributes of the parts the role writes are errors that stop
  the start, as in JCasC; ${VAR} resolves from the environment, ${readFile:/path} from the file as this process
  (user jenkins) can read it; an unresolvable value stops the start (real JCasC would log and use "");
- HTTP on JENKINS_PORT: /login, /whoAmI/api/json (any caller), /api/json (Overall/Read: refused to anonymous when
  security is on), HTTP basic auth against the local realm (a wrong password is 401); header X-Jenkins: <version>;
- every configuration load is appended to $JENKINS_HOME/standin-casc.log (path, executors, users; never a password).
"""
from __future__ import annotations

import base64
import hmac
import json
import os
import re
import sys
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

VERSION = os.environ.get("STANDIN_JENKINS_VERSION", "0")
HOME = Path(os.environ.get("JENKINS_HOME", "/var/lib/jenkins"))
ROOTS = ("jenkins", "unclassified", "security", "tool", "credentials", "jobs")
JENKINS_ATTRS = {
    "systemMessage": str, "numExecutors": int, "mode": str, "slaveAgentPort": int, "securityRealm": dict,
    "authorizationStrategy": (dict, str), "markupFormatter": (dict, str), "crumbIssuer": (dict, str),
    "disableRememberMe": bool, "labelString": str, "quietPeriod": int, "scmCheckoutRetryCount": int,
}
LOCAL_ATTRS = {"allowsSignup": bool, "enableCaptcha": bool, "users": list}
USER_ATTRS = {"id": str, "name": str, "password": str, "description": str, "properties": list}
LOCATION_ATTRS = {"url": str, "adminAddress": str}
VAR = re.compile(r"(\^?)\$\{([^{}]*)\}")


class CascError(Exception):
    pass


def log(msg: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [stand-in jenkins] {msg}", flush=True)


def version_key(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.-]", v))


def load_plugins() -> dict:
    found = {}
    for path in sorted((HOME / "plugins").glob("*.jpi")):
        try:
            with zipfile.ZipFile(path) as z:
                text = z.read("META-INF/MANIFEST.MF").decode()
        except (zipfile.BadZipFile, KeyError) as err:
            log(f"SEVERE Failed to read plugin {path.name}: {err}")
            continue
        text = text.replace("\r\n ", "").replace("\n ", "")
        man = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
        found[man.get("Short-Name", path.stem)] = man
    loaded = {}
    changed = True
    failed = {}
    while changed:
        changed = False
        for name, man in found.items():
            if name in loaded or name in failed:
                continue
            why = ""
            if version_key(man.get("Jenkins-Version", "0")) > version_key(VERSION):
                why = f"needs Jenkins {man['Jenkins-Version']}"
            pending = False
            for dep in filter(None, (man.get("Plugin-Dependencies") or "").split(",")):
                spec, _sep, opts = dep.partition(";")
                dname, _sep, dver = spec.partition(":")
                if "resolution:=optional" in opts:
                    continue
                if dname not in found:
                    why = f"depends on {dname}:{dver}, which is not installed"
                elif version_key(found[dname].get("Plugin-Version", "0")) < version_key(dver):
                    why = f"depends on {dname}:{dver}, {found[dname].get('Plugin-Version')} is older"
                elif dname in failed:
                    why = f"depends on {dname}, which failed to load"
                elif dname not in loaded:
                    pending = True
            if why:
                failed[name] = why
                changed = True
            elif not pending:
                loaded[name] = man
                changed = True
    for name, why in failed.items():
        log(f"SEVERE Failed Loading plugin {name}: {why}")
    log("plugins loaded: " + ", ".join(f"{n} {m.get('Plugin-Version')}" for n, m in sorted(loaded.items())))
    return loaded


def resolve(value: str, path: str) -> str:
    def one(match):
        if match.group(1):
            return "${" + match.group(2) + "}"
        expr = match.group(2)
        if expr.startswith("readFile:"):
            target = expr[len("readFile:"):]
            try:
                return Path(target).read_text()
            except OSError as err:
                raise CascError(f"{path}: ${{readFile:{target}}}: {err.strerror} (reading as uid {os.getuid()})") from None
        if ":" in expr:
            raise CascError(f"{path}: ${{{expr.split(':')[0]}:...}}: a secret source this stand-in does not model")
        if expr not in os.environ:
            raise CascError(f"{path}: ${{{expr}}} is not set in the environment")
        return os.environ[expr]
    return VAR.sub(one, value)


def attrs(node, allowed: dict, where: str) -> dict:
    if not isinstance(node, dict):
        raise CascError(f"{where}: expected a mapping, got {type(node).__name__}")
    unknown = sorted(set(node) - set(allowed))
    if unknown:
        raise CascError(f"Invalid configuration elements for type {where} : {', '.join(unknown)}. "
                        f"Available attributes : {', '.join(sorted(allowed))}")
    for key, kind in allowed.items():
        if (key in node and not isinstance(node[key], kind)) or (kind is int and isinstance(node.get(key), bool)):
            raise CascError(f"{where}.{key}: {node[key]!r} is not a {getattr(kind, '__name__', kind)}")
    return node


def one_of(node, choices: dict, where: str):
    """A describable: a bare symbol or a one-key mapping {symbol: attributes}."""
    if isinstance(node, str):
        symbol, body = node, {}
    elif isinstance(node, dict) and len(node) == 1:
        symbol, body = next(iter(node.items()))
        body = body or {}
    else:
        raise CascError(f"{where}: expected one implementation, got {node!r}")
    if symbol not in choices:
        raise CascError(f"{where}: No {where} implementation found for {symbol}; known: {', '.join(sorted(choices))}")
    return symbol, attrs(body, choices[symbol], f"{where}.{symbol}")


def read_casc(source: str) -> dict:
    path = Path(source)
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    merged = {}
    for f in files:
        try:
            doc = yaml.safe_load(f.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise CascError(f"{f}: {err}") from None
        if not isinstance(doc, dict):
            raise CascError(f"{f}: the top level must be a mapping")
        unknown = [k for k in doc if k not in ROOTS]
        if unknown:
            raise CascError("No configurator for the following root elements: " + ", ".join(unknown))
        for key, value in doc.items():
            if key in merged:
                raise CascError(f"{f}: {key} is configured in two files (conflicting configuration)")
            merged[key] = value
    return merged


def apply_casc(doc: dict, plugins: dict) -> dict:
    state = {"executors": 2, "users": {}, "secured": False, "signup": True, "anonymous_read": True, "url": None,
             "agent_port": 0, "markup": "plainText"}
    jen = attrs(doc.get("jenkins") or {}, JENKINS_ATTRS, "jenkins")
    if "numExecutors" in jen:
        if jen["numExecutors"] < 0:
            raise CascError("jenkins.numExecutors: must be >= 0")
        state["executors"] = jen["numExecutors"]
    if jen.get("mode", "NORMAL") not in ("NORMAL", "EXCLUSIVE"):
        raise CascError(f"jenkins.mode: {jen['mode']!r}: NORMAL or EXCLUSIVE")
    if "slaveAgentPort" in jen:
        if not -1 <= jen["slaveAgentPort"] <= 65535:
            raise CascError("jenkins.slaveAgentPort: -1 (off), 0 (random) or a port")
        state["agent_port"] = jen["slaveAgentPort"]
    if "securityRealm" in jen:
        symbol, local = one_of(jen["securityRealm"], {"local": LOCAL_ATTRS}, "securityRealm")
        state["signup"] = local.get("allowsSignup", True)
        for i, user in enumerate(local.get("users") or []):
            user = attrs(user, USER_ATTRS, f"securityRealm.local.users[{i}]")
            if not user.get("id"):
                raise CascError(f"securityRealm.local.users[{i}].id: required")
            password = resolve(user.get("password", ""), f"securityRealm.local.users[{i}].password")
            if not password:
                raise CascError(f"securityRealm.local.users[{i}].password: empty")
            state["users"][user["id"]] = password
    if "authorizationStrategy" in jen:
        strategies = {"unsecured": {}, "loggedInUsersCanDoAnything": {"allowAnonymousRead": bool}}
        if "matrix-auth" in plugins:
            strategies["globalMatrix"] = {"permissions": list, "entries": list}
        symbol, body = one_of(jen["authorizationStrategy"], strategies, "authorizationStrategy")
        state["secured"] = symbol != "unsecured"
        state["anonymous_read"] = body.get("allowAnonymousRead", False) if state["secured"] else True
    if "markupFormatter" in jen:
        state["markup"], _dummy = one_of(jen["markupFormatter"], {"plainText": {}, "rawHtml": {"disableSyntaxHighlighting": bool}},
                                         "markupFormatter")
    if "crumbIssuer" in jen:
        one_of(jen["crumbIssuer"], {"standard": {"excludeClientIPFromCrumb": bool}}, "crumbIssuer")
    unc = doc.get("unclassified") or {}
    attrs(unc, {"location": dict}, "unclassified")
    if "location" in unc:
        loc = attrs(unc["location"], LOCATION_ATTRS, "unclassified.location")
        url = resolve(loc.get("url", ""), "unclassified.location.url")
        if url and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", url):
            raise CascError(f"unclassified.location.url: {url!r} is not an absolute http(s) URL")
        state["url"] = url if url.endswith("/") else url + "/"
    for key in ("security", "tool", "credentials", "jobs"):
        if key in doc:
            raise CascError(f"{key}: not modelled by the stand-in (the role writes none)")
    if state["secured"] and not state["users"]:
        raise CascError("securityRealm.local.users: security is on but no user can log in")
    return state


def main() -> int:
    plugins = load_plugins()
    opts = os.environ.get("JAVA_OPTS", "")
    wizard = "-Djenkins.install.runSetupWizard=false" not in opts.split()
    casc = os.environ.get("CASC_JENKINS_CONFIG", "")
    state = {"executors": 2, "users": {}, "secured": False, "anonymous_read": True, "url": None}
    if casc and "configuration-as-code" not in plugins:
        log(f"WARNING CASC_JENKINS_CONFIG={casc} is ignored: the configuration-as-code plugin is not loaded")
    elif casc:
        try:
            state = apply_casc(read_casc(casc), plugins)
        except CascError as err:
            log(f"SEVERE io.jenkins.plugins.casc.ConfiguratorException: {err}")
            log("SEVERE Jenkins initialization has failed")
            return 1
        with open(HOME / "standin-casc.log", "a", encoding="utf-8") as f:
            f.write(json.dumps({"time": time.time(), "source": casc, "executors": state["executors"],
                                "users": sorted(state["users"]), "secured": state["secured"],
                                "url": state["url"]}) + "\n")
        log(f"JCasC applied from {casc}: numExecutors={state['executors']} users={sorted(state['users'])}")
    if wizard:
        (HOME / "secrets").mkdir(exist_ok=True)
        (HOME / "secrets" / "initialAdminPassword").write_text(os.urandom(16).hex() + "\n")
        log("setup wizard: unlock Jenkins with secrets/initialAdminPassword")
    port = int(os.environ.get("JENKINS_PORT", "8080"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # the access log carries no credentials
            log("http " + (fmt % args))

        def who(self):
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return "anonymous", None
            try:
                user, _sep, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None, "malformed basic auth"
            want = state["users"].get(user)
            if want is None or not hmac.compare_digest(want.encode(), password.encode()):
                return None, f"Invalid password/token for user: {user}"
            return user, None

        def send(self, code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("X-Jenkins", VERSION)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/login":
                return self.send(200, "<html><body>Sign in to Jenkins</body></html>", "text/html")
            if wizard:
                return self.send(403, "<html>Unlock Jenkins (setup wizard)</html>", "text/html")
            user, err = self.who()
            if err:
                return self.send(401, f"<html>{err}</html>", "text/html")
            if path == "/whoAmI/api/json":
                return self.send(200, {"name": user, "anonymous": user == "anonymous",
                                       "authenticated": user != "anonymous",
                                       "authorities": ["authenticated"] if user != "anonymous" else ["anonymous"]})
            if user == "anonymous" and state["secured"] and not state["anonymous_read"]:
                return self.send(403, "<html>Authentication required</html>", "text/html")
            if path in ("/api/json", "/"):
                return self.send(200, {"_class": "hudson.model.Hudson", "mode": "NORMAL", "numExecutors": state["executors"],
                                       "url": state["url"], "useSecurity": state["secured"]})
            return self.send(404, "<html>Not found</html>", "text/html")

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    log(f"Jenkins is fully up and running (stand-in {VERSION}, port {port})")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
