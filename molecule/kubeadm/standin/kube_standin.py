"""TEST STAND-IN for kubeadm, kubectl and kubelet (molecule/kubeadm only; never installed by a role).

No Kubernetes binary can be fetched on the test machines, so this one script plays
  kubeadm  (version, config validate, init, join, token create, certs certificate-key,
            init phase upload-certs; day-2: upgrade plan|apply|node, reset),
  kubectl  (version, get nodes/--raw, apply --server-side, diff, wait, rollout status, delete node),
  kubelet  (--version; its --node-labels rules are checked when a node registers),
  apiserver (a small HTTPS server on the first control plane, run by systemd after `kubeadm init`,
             holding the cluster state: nodes, bootstrap tokens, uploaded certificates, objects).
It checks arguments and configs as strictly as the real tools (kubeadm's strict decoding of the
v1beta4 API: an unknown or misplaced field fails), writes the files the real kubeadm writes
(/etc/kubernetes/{admin,super-admin,kubelet,controller-manager,scheduler}.conf, pki/ with real
x509 from openssl, manifests/*.yaml), and every other host reaches the state over TLS through the
controlPlaneEndpoint (the role's haproxy in local_proxy mode), verifying the CA and the SANs.
What it does not do: run etcd, containers, or any real Kubernetes component.
"""
from __future__ import annotations

import base64
import calendar
import hashlib
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

VERSION = os.environ.get("STANDIN_KUBE_VERSION", "v1.37.2")
ETC = "/etc/kubernetes"
PKI = ETC + "/pki"
STATE = "/var/lib/standin-kube/state.json"
LOG = "/var/lib/standin-kube/calls.log"
TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
CERT_KEY_RE = re.compile(r"^[a-f0-9]{64}$")
CA_HASH_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
CERT_KEY_TTL = 2 * 3600  # kubeadm deletes the kubeadm-certs Secret after two hours

# --------------------------------------------------------------------------- v1beta4 field sets
# Transcribed from the v1beta4 Go types (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go, Kubernetes
# 1.31+; bootstraptoken/v1 for BootstrapToken): name -> nested type, None for a scalar/list of scalars.
ARG = {"name": None, "value": None}
ENV = {"name": None, "value": None, "valueFrom": None}
HOST_PATH = {"name": None, "hostPath": None, "mountPath": None, "readOnly": None, "pathType": None}
COMPONENT = {"extraArgs": [ARG], "extraVolumes": [HOST_PATH], "extraEnvs": [ENV]}
API_SERVER = dict(COMPONENT, certSANs=None)
IMAGE_META = {"imageRepository": None, "imageTag": None}
ENDPOINT = {"advertiseAddress": None, "bindPort": None}
TAINT = {"key": None, "value": None, "effect": None, "timeAdded": None}
NODE_REG = {"name": None, "criSocket": None, "taints": [TAINT], "kubeletExtraArgs": [ARG],
            "ignorePreflightErrors": None, "imagePullPolicy": None, "imagePullSerial": None}
TIMEOUTS = {k: None for k in ("controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall",
                              "etcdAPICall", "tlsBootstrap", "discovery", "upgradeManifests")}
BOOTSTRAP_TOKEN = {"token": None, "description": None, "ttl": None, "expires": None, "usages": None, "groups": None}
PATCHES = {"directory": None}
TYPE_META = {"apiVersion": None, "kind": None}
INIT = dict(TYPE_META, bootstrapTokens=[BOOTSTRAP_TOKEN], dryRun=None, nodeRegistration=NODE_REG,
            localAPIEndpoint=ENDPOINT, certificateKey=None, skipPhases=None, patches=PATCHES, timeouts=TIMEOUTS)
CLUSTER = dict(
    TYPE_META,
    etcd={"local": dict(IMAGE_META, dataDir=None, extraArgs=[ARG], extraEnvs=[ENV], serverCertSANs=None, peerCertSANs=None),
          "external": {"endpoints": None, "caFile": None, "certFile": None, "keyFile": None}},
    networking={"serviceSubnet": None, "podSubnet": None, "dnsDomain": None},
    kubernetesVersion=None, controlPlaneEndpoint=None, apiServer=API_SERVER, controllerManager=COMPONENT,
    scheduler=COMPONENT, dns=dict(IMAGE_META, disabled=None), proxy={"disabled": None}, certificatesDir=None,
    imageRepository=None, featureGates=None, clusterName=None, encryptionAlgorithm=None,
    certificateValidityPeriod=None, caCertificateValidityPeriod=None)
JOIN = dict(
    TYPE_META, dryRun=None, nodeRegistration=NODE_REG, caCertPath=None,
    discovery={"bootstrapToken": {"token": None, "apiServerEndpoint": None, "caCertHashes": None,
                                  "unsafeSkipCAVerification": None},
               "file": {"kubeConfigPath": None}, "tlsBootstrapToken": None},
    controlPlane={"localAPIEndpoint": ENDPOINT, "certificateKey": None}, skipPhases=None, patches=PATCHES,
    timeouts=TIMEOUTS)
# kubelet.config.k8s.io/v1beta1 KubeletConfiguration: the top-level fields (k8s.io/kubelet/config/v1beta1).
KUBELET = {k: None for k in (
    "apiVersion kind enableServer staticPodPath podLogsDir syncFrequency fileCheckFrequency httpCheckFrequency "
    "staticPodURL staticPodURLHeader address port readOnlyPort tlsCertFile tlsPrivateKeyFile tlsCipherSuites "
    "tlsMinVersion rotateCertificates serverTLSBootstrap authentication authorization registryPullQPS "
    "registryBurst imagePullCredentialsVerificationPolicy preloadedImagesVerificationAllowlist eventRecordQPS "
    "eventBurst enableDebuggingHandlers enableContentionProfiling healthzPort healthzBindAddress oomScoreAdj "
    "clusterDomain clusterDNS streamingConnectionIdleTimeout nodeStatusUpdateFrequency nodeStatusReportFrequency "
    "nodeLeaseDurationSeconds imageMinimumGCAge imageMaximumGCAge imageGCHighThresholdPercent "
    "imageGCLowThresholdPercent volumeStatsAggPeriod kubeletCgroups systemCgroups cgroupRoot cgroupsPerQOS "
    "cgroupDriver cpuManagerPolicy singleProcessOOMKill cpuManagerPolicyOptions cpuManagerReconcilePeriod "
    "memoryManagerPolicy topologyManagerPolicy topologyManagerScope topologyManagerPolicyOptions qosReserved "
    "runtimeRequestTimeout hairpinMode maxPods podCIDR podPidsLimit resolvConf runOnce cpuCFSQuota "
    "cpuCFSQuotaPeriod nodeStatusMaxImages maxParallelImagePulls maxOpenFiles contentType kubeAPIQPS "
    "kubeAPIBurst serializeImagePulls evictionHard evictionSoft evictionSoftGracePeriod "
    "evictionPressureTransitionPeriod evictionMaxPodGracePeriod evictionMinimumReclaim "
    "mergeDefaultEvictionSettings podsPerCore enableControllerAttachDetach protectKernelDefaults "
    "makeIPTablesUtilChains iptablesMasqueradeBit iptablesDropBit featureGates failSwapOn memorySwap "
    "containerLogMaxSize containerLogMaxFiles containerLogMaxWorkers containerLogMonitorInterval "
    "configMapAndSecretChangeDetectionStrategy systemReserved kubeReserved reservedSystemCPUs "
    "showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup enforceNodeAllocatable "
    "allowedUnsafeSysctls volumePluginDir providerID kernelMemcgNotification logging enableSystemLogHandler "
    "enableSystemLogQuery shutdownGracePeriod shutdownGracePeriodCriticalPods shutdownGracePeriodByPodPriority "
    "crashLoopBackOff reservedMemory enableProfilingHandler enableDebugFlagsHandler seccompDefault "
    "memoryThrottlingFactor registerWithTaints registerNode tracing localStorageCapacityIsolation "
    "containerRuntimeEndpoint imageServiceEndpoint failCgroupV1 userNamespaces").split()}
# kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration: the top-level fields.
KUBE_PROXY = {k: None for k in (
    "apiVersion kind featureGates clientConnection logging hostnameOverride bindAddress healthzBindAddress "
    "metricsBindAddress bindAddressHardFail enableProfiling showHiddenMetricsForVersion mode iptables ipvs "
    "nftables winkernel detectLocalMode detectLocal clusterCIDR nodePortAddresses oomScoreAdj conntrack "
    "configSyncPeriod portRange windowsRunAsService").split()}
KINDS = {
    ("kubeadm.k8s.io/v1beta4", "InitConfiguration"): INIT,
    ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration"): CLUSTER,
    ("kubeadm.k8s.io/v1beta4", "JoinConfiguration"): JOIN,
    ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"): KUBELET,
    ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration"): KUBE_PROXY,
}
# Labels a kubelet may set on itself in the kubernetes.io / k8s.io namespaces (kubelet's allow-list).
KUBELET_LABELS = {"kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os",
                  "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
                  "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                  "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone"}


class Fail(Exception):
    pass


def strict(doc, schema, path: str) -> list:
    """Unknown fields of doc under schema, each as 'path.field' (kubeadm: 'unknown field')."""
    errors = []
    if isinstance(schema, list):
        if doc is None:
            return []
        if not isinstance(doc, list):
            return [f"{path}: expected a list"]
        for i, item in enumerate(doc):
            errors += strict(item, schema[0], f"{path}[{i}]")
        return errors
    if not isinstance(doc, dict):
        return [f"{path}: expected an object"] if doc is not None else []
    for key, value in doc.items():
        if key not in schema:
            errors.append(f'unknown field "{path + "." if path else ""}{key}"')
        elif schema[key] is not None:
            errors += strict(value, schema[key], f"{path + '.' if path else ''}{key}")
    return errors


def load_config(path: str) -> dict:
    """Documents of a kubeadm config file by kind; raise Fail as kubeadm's strict decoding would."""
    try:
        docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise Fail(f"unable to read config from {path!r}: {exc}") from exc
    out = {}
    for doc in docs:
        if not isinstance(doc, dict):
            raise Fail(f"{path}: a document is not a mapping")
        gvk = (doc.get("apiVersion"), doc.get("kind"))
        if gvk not in KINDS:
            raise Fail(f'{path}: no kind "{gvk[1]}" is registered for version "{gvk[0]}"')
        if gvk[1] in out:
            raise Fail(f"{path}: duplicate {gvk[1]}")
        errors = strict(doc, KINDS[gvk], "")
        if errors:
            raise Fail(f"error unmarshaling {gvk[1]} from {path!r}: strict decoding error: " + ", ".join(errors))
        out[gvk[1]] = doc
    return out


def validate(cfg: dict) -> None:
    """Semantic checks of kubeadm's validation that our role can get wrong."""
    errs = []
    cluster = cfg.get("ClusterConfiguration") or {}
    version = cluster.get("kubernetesVersion")
    if version and not re.match(r"^v\d+\.\d+\.\d+$", version):
        errs.append(f"kubernetesVersion {version!r} is not vMAJOR.MINOR.PATCH")
    if version and version.split(".")[:2] != VERSION.split(".")[:2]:
        errs.append(f"this version of kubeadm only supports deploying clusters with the control plane version >= "
                    f"{VERSION[:5]}.0. Current version: {version}")
    for sect in ("apiServer", "controllerManager", "scheduler"):
        for arg in ((cluster.get(sect) or {}).get("extraArgs") or []):
            if not isinstance(arg, dict) or "name" not in arg or "value" not in arg:
                errs.append(f"{sect}.extraArgs: every item needs name and value")
    for kind in ("InitConfiguration", "JoinConfiguration"):
        reg = (cfg.get(kind) or {}).get("nodeRegistration") or {}
        for taint in reg.get("taints") or []:
            if taint.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                errs.append(f"{kind}.nodeRegistration.taints: effect {taint.get('effect')!r} is not supported")
        for arg in reg.get("kubeletExtraArgs") or []:
            if not isinstance(arg, dict) or set(arg) != {"name", "value"}:
                errs.append(f"{kind}.nodeRegistration.kubeletExtraArgs: every item is {{name, value}}")
    join = cfg.get("JoinConfiguration")
    if join:
        bt = (join.get("discovery") or {}).get("bootstrapToken") or {}
        if not bt:
            errs.append("discovery.bootstrapToken or discovery.file must be set")
        else:
            if not TOKEN_RE.match(str(bt.get("token", ""))):
                errs.append("discovery.bootstrapToken.token: the bootstrap token is invalid")
            if not bt.get("apiServerEndpoint"):
                errs.append("discovery.bootstrapToken.apiServerEndpoint: Required value")
            hashes = bt.get("caCertHashes") or []
            if not hashes and not bt.get("unsafeSkipCAVerification"):
                errs.append("discovery.bootstrapToken.caCertHashes: using token-based discovery without "
                            "caCertHashes can be unsafe; set unsafeSkipCAVerification")
            errs += [f"caCertHashes: {h!r} is not sha256:<64 hex>" for h in hashes if not CA_HASH_RE.match(str(h))]
        cp = join.get("controlPlane")
        if cp is not None and cp.get("certificateKey") and not CERT_KEY_RE.match(cp["certificateKey"]):
            errs.append("controlPlane.certificateKey: must be 64 hex characters (a 32-byte AES key)")
    init = cfg.get("InitConfiguration") or {}
    if init.get("certificateKey") and not CERT_KEY_RE.match(init["certificateKey"]):
        errs.append("certificateKey: must be 64 hex characters (a 32-byte AES key)")
    for i, token in enumerate(init.get("bootstrapTokens") or []):
        if token.get("token") and not TOKEN_RE.match(token["token"]):
            errs.append(f"bootstrapTokens[{i}].token: the bootstrap token is invalid")
        if token.get("ttl") is not None:
            duration(token["ttl"])
    for label in kubelet_labels(cfg):
        key = label.split("=", 1)[0]
        prefix = key.split("/", 1)[0] if "/" in key else ""
        reserved = any(prefix == d or prefix.endswith("." + d) for d in ("kubernetes.io", "k8s.io"))
        allowed = key in KUBELET_LABELS or any(prefix == d or prefix.endswith("." + d)
                                               for d in ("kubelet.kubernetes.io", "node.kubernetes.io"))
        if reserved and not allowed:
            errs.append(f"kubelet: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [{key}]")
    if errs:
        raise Fail("; ".join(errs))


def kubelet_labels(cfg: dict) -> list:
    for kind in ("InitConfiguration", "JoinConfiguration"):
        for arg in ((cfg.get(kind) or {}).get("nodeRegistration") or {}).get("kubeletExtraArgs") or []:
            if arg.get("name") == "node-labels" and arg.get("value"):
                return str(arg["value"]).split(",")
    return []


def duration(text) -> int:
    """Seconds of a Go duration ('15m', '1h0m0s', '24h')."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(text))
    if not match or not any(match.groups()):
        raise Fail(f"invalid duration {text!r}")
    h, m, s = (int(x or 0) for x in match.groups())
    return h * 3600 + m * 60 + s


def log_call(argv) -> None:
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    with open(LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"t": time.time(), "argv": argv}) + "\n")


# --------------------------------------------------------------------------- pki
def openssl(*args, stdin=None) -> str:
    proc = subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise Fail("openssl " + " ".join(args[:2]) + ": " + proc.stderr.strip())
    return proc.stdout


def new_ca(path: str, cn: str) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path + ".key", "-out", path + ".crt",
            "-days", "3650", "-subj", "/CN=" + cn)
    os.chmod(path + ".key", 0o600)


def new_cert(path: str, ca: str, subj: str, sans=(), days=365, usage="") -> None:
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path + ".key", "-out", path + ".csr", "-subj", subj)
    with tempfile.NamedTemporaryFile("w", suffix=".ext", delete=False) as ext:
        ext.write("basicConstraints=CA:FALSE\n")
        if usage:
            ext.write(f"extendedKeyUsage={usage}\n")
        if sans:
            ext.write("subjectAltName=" + ",".join(("IP:" if re.match(r"^[\d.]+$", s) else "DNS:") + s for s in sans) + "\n")
    openssl("x509", "-req", "-in", path + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-out", path + ".crt", "-days", str(days), "-extfile", ext.name)
    os.unlink(ext.name)
    os.unlink(path + ".csr")
    os.chmod(path + ".key", 0o600)


def ca_hash(pem: str) -> str:
    pub = openssl("x509", "-pubkey", "-noout", stdin=pem)
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub.encode(), capture_output=True,
                         check=True).stdout
    return "sha256:" + hashlib.sha256(der).hexdigest()


def b64(path: str) -> str:
    return base64.b64encode(open(path, "rb").read()).decode()


def write_kubeconfig(path: str, server: str, user: str, cert: str) -> None:
    conf = {"apiVersion": "v1", "kind": "Config", "current-context": f"{user}@kubernetes",
            "clusters": [{"name": "kubernetes", "cluster": {"server": server, "certificate-authority-data": b64(PKI + "/ca.crt")}}],
            "contexts": [{"name": f"{user}@kubernetes", "context": {"cluster": "kubernetes", "user": user}}],
            "users": [{"name": user, "user": {"client-certificate-data": b64(cert + ".crt"), "client-key-data": b64(cert + ".key")}}]}
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        yaml.safe_dump(conf, handle)


def write_node_files(cfg: dict, kind: str, server: str, name: str, control_plane: bool, sans: list, work: str) -> None:
    """What kubeadm init/join leave on a node: kubeconfigs, pki, static pod manifests, kubelet files.
    `work` holds kubelet-client.{crt,key} (signed locally on a control plane, by the API server on a worker)."""
    os.makedirs(PKI + "/etcd", exist_ok=True)
    os.makedirs(ETC + "/manifests", exist_ok=True)
    os.makedirs("/var/lib/kubelet", exist_ok=True)
    write_kubeconfig(ETC + "/kubelet.conf", server, f"system:node:{name}", work + "/kubelet-client")
    if control_plane:
        new_cert(PKI + "/apiserver", PKI + "/ca", "/CN=kube-apiserver", sans)
        new_cert(PKI + "/apiserver-kubelet-client", PKI + "/ca", "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client")
        write_etcd_pki(name, sans[5] if len(sans) > 5 and re.match(r"^[\d.]+$", sans[5]) else "")
        subprocess.run(["systemctl", "enable", "--now", "standin-pods.service"], check=True, capture_output=True)
        for conf, subj in (("admin", "/O=kubeadm:cluster-admins/CN=kubernetes-admin"),
                           ("super-admin", "/O=system:masters/CN=kubernetes-super-admin"),
                           ("controller-manager", "/CN=system:kube-controller-manager"),
                           ("scheduler", "/CN=system:kube-scheduler")):
            new_cert(work + "/" + conf, PKI + "/ca", subj)
            write_kubeconfig(f"{ETC}/{conf}.conf", server, subj.rsplit("CN=", 1)[1], work + "/" + conf)
        for pod in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            manifest = {"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": pod, "namespace": "kube-system", "labels": {"component": pod, "tier": "control-plane"}},
                        "spec": {"hostNetwork": True, "containers": [{"name": pod, "image": f"registry.k8s.io/{pod}:{VERSION}"}]}}
            with open(f"{ETC}/manifests/{pod}.yaml", "w", encoding="utf-8") as handle:
                yaml.safe_dump(manifest, handle)
    shutil.rmtree(work)
    reg = (cfg.get(kind) or {}).get("nodeRegistration") or {}
    flags = " ".join(f"--{a['name']}={a['value']}" for a in reg.get("kubeletExtraArgs") or [])
    with open("/var/lib/kubelet/kubeadm-flags.env", "w", encoding="utf-8") as handle:
        handle.write(f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={reg.get("criSocket", "")} {flags}"\n')
    kubelet = cfg.get("KubeletConfiguration") or {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
    with open("/var/lib/kubelet/config.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(kubelet, handle)


def node_object(cfg: dict, kind: str, name: str, control_plane: bool) -> dict:
    reg = (cfg.get(kind) or {}).get("nodeRegistration") or {}
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    labels.update(dict(([*kv.split("=", 1), ""])[:2] for kv in kubelet_labels(cfg)))
    taints = reg.get("taints")
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        if taints is None:
            taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    taints = [{k: v for k, v in t.items() if v not in ("", None)} for t in (taints or [])]
    return {"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}}


# --------------------------------------------------------------------------- client side
def kubeconfig(path: str) -> dict:
    try:
        conf = yaml.safe_load(open(path, encoding="utf-8"))
    except OSError as exc:
        raise Fail(f"error loading config file {path!r}: {exc}") from exc
    cluster = conf["clusters"][0]["cluster"]
    user = conf["users"][0]["user"]
    return {"server": cluster["server"], "ca": base64.b64decode(cluster["certificate-authority-data"]).decode(),
            "cert": base64.b64decode(user["client-certificate-data"]).decode(),
            "key": base64.b64decode(user["client-key-data"]).decode()}


def call(server: str, method: str, path: str, body=None, ca=None, cert=None, key=None, token=None, timeout=10.0):
    """One HTTPS request to the stand-in API server; CA and host name verified when `ca` is given."""
    ctx = ssl.create_default_context(cadata=ca) if ca else ssl._create_unverified_context()
    tmp = None
    if cert:
        tmp = tempfile.mkdtemp()
        open(tmp + "/c", "w", encoding="ascii").write(cert)
        open(tmp + "/k", "w", encoding="ascii").write(key)
        ctx.load_cert_chain(tmp + "/c", tmp + "/k")
    req = urllib.request.Request(server.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise Fail(f"the server rejected the request ({exc.code}): {exc.read().decode(errors='replace')}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise Fail(f"unable to reach the API server at {server}: {exc}") from exc
    finally:
        if tmp:
            shutil.rmtree(tmp)


def admin_call(method: str, path: str, body=None, conf=ETC + "/admin.conf", timeout=10.0):
    kc = kubeconfig(conf)
    return call(kc["server"], method, path, body, kc["ca"], kc["cert"], kc["key"], timeout=timeout)


# --------------------------------------------------------------------------- kubeadm
def flags(argv: list, allowed: dict) -> tuple:
    """Parse --flag value / --flag=value / --bool; unknown flag -> Fail (cobra: unknown flag)."""
    out, rest, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name not in allowed:
                raise Fail(f"unknown flag: --{name}")
            if allowed[name] == "bool":
                out[name] = True
            else:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise Fail(f"flag needs an argument: --{name}")
                    value = argv[i]
                out[name] = value
        elif arg == "-o" and "o" in allowed:
            i += 1
            out["o"] = argv[i]
        else:
            rest.append(arg)
        i += 1
    return out, rest


def kubeadm(argv: list) -> int:
    log_call(["kubeadm", *argv])
    if argv[:1] == ["version"]:
        opts = flags(argv[1:], {"output": "str", "o": "str"})[0]
        print(VERSION if (opts.get("o") or opts.get("output")) == "short" else json.dumps({"clientVersion": {"gitVersion": VERSION}}))
        return 0
    if argv[:2] == ["config", "validate"]:
        opts, rest = flags(argv[2:], {"config": "str", "allow-experimental-api": "bool"})
        if rest or "config" not in opts:
            raise Fail("required flag(s) \"config\" not set")
        validate(load_config(opts["config"]))
        print("ok")
        return 0
    if argv[:2] == ["certs", "certificate-key"]:
        flags(argv[2:], {})
        print(secrets.token_hex(32))
        return 0
    if argv[:1] == ["init"] and argv[1:3] == ["phase", "upload-certs"]:
        return upload_certs(argv[3:])
    if argv[:1] == ["init"]:
        return init(argv[1:])
    if argv[:2] == ["token", "create"]:
        return token_create(argv[2:])
    if argv[:1] == ["join"]:
        return join(argv[1:])
    if argv[:2] == ["certs", "check-expiration"]:
        return certs_check_expiration(argv[2:])
    if argv[:2] == ["certs", "renew"]:
        return certs_renew(argv[2:])
    if argv[:1] in (["upgrade"], ["reset"]):
        return day2_kubeadm(argv)
    raise Fail(f"stand-in kubeadm: unsupported command {argv!r}")


def root_config(argv: list, allowed: dict) -> tuple:
    opts, rest = flags(argv, dict(allowed, config="str"))
    if rest:
        raise Fail(f"unexpected arguments {rest!r}: pass everything in --config (tokens and keys never on a command line)")
    if "config" not in opts:
        raise Fail("this stand-in requires --config")
    if os.geteuid() != 0:
        raise Fail("[preflight] user is not running as root")
    mode = os.stat(opts["config"]).st_mode & 0o777
    if mode & 0o077:
        raise Fail(f"{opts['config']} is mode {mode:o}: a config carrying a token or key must be 0600")
    cfg = load_config(opts["config"])
    validate(cfg)
    return opts, cfg


def ports_free(ports) -> None:
    import socket
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("0.0.0.0", port))
            except OSError as exc:
                raise Fail(f"[preflight] Some fatal errors occurred: [ERROR Port-{port}]: Port {port} is in use") from exc


def init(argv: list) -> int:
    opts, cfg = root_config(argv, {"skip-token-print": "bool", "upload-certs": "bool"})
    if "InitConfiguration" not in cfg or "ClusterConfiguration" not in cfg:
        raise Fail("init needs an InitConfiguration and a ClusterConfiguration")
    for path in (ETC + "/admin.conf", ETC + "/manifests/kube-apiserver.yaml", ETC + "/kubelet.conf"):
        if os.path.exists(path):
            raise Fail(f"[preflight] Some fatal errors occurred: [ERROR FileAvailable]: {path} already exists")
    ports_free((6443, 2379, 2380, 10250, 10257, 10259))
    cluster, initc = cfg["ClusterConfiguration"], cfg["InitConfiguration"]
    if not cluster.get("kubernetesVersion"):
        raise Fail("could not fetch a Kubernetes version from the internet: kubernetesVersion must be set offline")
    reg = initc.get("nodeRegistration") or {}
    name = reg.get("name") or os.uname().nodename
    adv = (initc.get("localAPIEndpoint") or {}).get("advertiseAddress", "")
    endpoint = cluster.get("controlPlaneEndpoint") or f"{adv}:6443"
    os.makedirs(PKI + "/etcd", exist_ok=True)
    new_ca(PKI + "/ca", "kubernetes")
    new_ca(PKI + "/front-proxy-ca", "front-proxy-ca")
    new_ca(PKI + "/etcd/ca", "etcd-ca")
    openssl("genrsa", "-out", PKI + "/sa.key", "2048")
    open(PKI + "/sa.pub", "w", encoding="ascii").write(openssl("rsa", "-in", PKI + "/sa.key", "-pubout"))
    work = tempfile.mkdtemp()
    new_cert(work + "/kubelet-client", PKI + "/ca", f"/O=system:nodes/CN=system:node:{name}")
    write_node_files(cfg, "InitConfiguration", "https://" + endpoint, name, True, apiserver_sans(cluster, name, adv), work)
    write_etcd_manifest(name, adv)
    tokens = {}
    for bt in initc.get("bootstrapTokens") or [{}]:
        tok = bt.get("token") or f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
        tokens[tok.split(".")[0]] = {"secret": tok.split(".")[1], "expires": time.time() + duration(bt.get("ttl", "24h0m0s"))}
        first = tok
    state = {"cluster": cluster, "ca": open(PKI + "/ca.crt", encoding="ascii").read(),
             "nodes": {name: node_object(cfg, "InitConfiguration", name, True)}, "tokens": tokens, "certs": None,
             "objects": {}, "events": [{"t": time.time(), "op": "init", "node": name}],
             # every token and certificate key ever issued, so the test can grep its logs for them
             "issued": [first]}
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(os.open(STATE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    subprocess.run(["systemctl", "enable", "--now", "standin-apiserver.service"], check=True, capture_output=True)
    for _attempt in range(100):
        try:
            admin_call("GET", "/readyz", timeout=2)
            break
        except Fail:
            time.sleep(0.1)
    else:
        raise Fail("[wait-control-plane] the API server did not become healthy")
    print("Your Kubernetes control-plane has initialized successfully!")
    if not opts.get("skip-token-print"):
        print(f"kubeadm join {endpoint} --token {first} --discovery-token-ca-cert-hash {ca_hash(state['ca'])}")
    return 0


def apiserver_sans(cluster: dict, name: str, adv: str) -> list:
    host = (cluster.get("controlPlaneEndpoint") or "").rsplit(":", 1)[0]
    sans = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", name]
    sans += [s for s in [adv, host, "10.96.0.1"] if s]
    return list(dict.fromkeys(sans + list((cluster.get("apiServer") or {}).get("certSANs") or [])))


def upload_certs(argv: list) -> int:
    opts, cfg = root_config(argv, {"upload-certs": "bool", "skip-certificate-key-print": "bool"})
    if not opts.get("upload-certs"):
        raise Fail("upload-certs needs --upload-certs")
    key = (cfg.get("InitConfiguration") or {}).get("certificateKey") or ""
    if not CERT_KEY_RE.match(key):
        raise Fail("InitConfiguration.certificateKey must be set to 64 hex characters")
    bundle = {p: open(f"{PKI}/{p}", encoding="ascii").read() for p in (
        "ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key")}
    admin_call("POST", "/standin/upload-certs", {"key": key, "bundle": bundle})
    print("[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace")
    return 0


def token_create(argv: list) -> int:
    opts, rest = flags(argv, {"ttl": "str", "print-join-command": "bool", "kubeconfig": "str", "description": "str"})
    if rest:
        raise Fail(f"unexpected arguments {rest!r}: a token is generated, never passed on the command line")
    ttl = duration(opts.get("ttl", "24h"))
    tok = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    conf = opts.get("kubeconfig", ETC + "/admin.conf")
    answer = admin_call("POST", "/standin/tokens", {"token": tok, "ttl": ttl}, conf=conf)
    if opts.get("print-join-command"):
        endpoint = answer["controlPlaneEndpoint"]
        print(f"kubeadm join {endpoint} --token {tok} --discovery-token-ca-cert-hash {ca_hash(answer['ca'])} ")
    else:
        print(tok)
    return 0


def join(argv: list) -> int:
    _opts, cfg = root_config(argv, {})
    joinc = cfg.get("JoinConfiguration")
    if not joinc or set(cfg) - {"JoinConfiguration"}:
        raise Fail("join takes a JoinConfiguration only")
    if os.path.exists(ETC + "/kubelet.conf"):
        raise Fail(f"[preflight] Some fatal errors occurred: [ERROR FileAvailable--etc-kubernetes-kubelet.conf]: {ETC}/kubelet.conf already exists")
    control_plane = joinc.get("controlPlane") is not None
    ports_free((6443, 2379, 2380, 10250, 10257, 10259) if control_plane else (10250,))
    bt = joinc["discovery"]["bootstrapToken"]
    server = "https://" + bt["apiServerEndpoint"]
    info = call(server, "GET", "/standin/cluster-info")  # unverified, then pinned, as token discovery does
    if ca_hash(info["ca"]) not in bt.get("caCertHashes", []):
        raise Fail("cluster CA found in cluster-info ConfigMap is invalid: none of the public keys match the pins")
    reg = joinc.get("nodeRegistration") or {}
    name = reg.get("name") or os.uname().nodename
    cp = joinc.get("controlPlane") or {}
    work = tempfile.mkdtemp()
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", work + "/kubelet-client.key", "-out", work + "/csr",
            "-subj", f"/O=system:nodes/CN=system:node:{name}")
    body = {"node": node_object(cfg, "JoinConfiguration", name, control_plane), "control_plane": control_plane,
            "certificate_key": cp.get("certificateKey", ""), "csr": open(work + "/csr", encoding="ascii").read()}
    answer = call(server, "POST", "/standin/join", body, ca=info["ca"], token=bt["token"])
    os.makedirs(PKI, exist_ok=True)
    if control_plane:
        for path, pem in answer["bundle"].items():
            os.makedirs(os.path.dirname(f"{PKI}/{path}"), exist_ok=True)
            mode = 0o600 if path.endswith(".key") else 0o644
            with open(os.open(f"{PKI}/{path}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="ascii") as handle:
                handle.write(pem)
        adv = (cp.get("localAPIEndpoint") or {}).get("advertiseAddress", "")
        sans = apiserver_sans(answer["cluster"], name, adv)
    else:
        open(PKI + "/ca.crt", "w", encoding="ascii").write(info["ca"])
        sans = []
    open(work + "/kubelet-client.crt", "w", encoding="ascii").write(answer["kubelet_cert"])  # TLS bootstrap: CSR signed
    write_node_files(cfg, "JoinConfiguration", server, name, control_plane, sans, work)
    print("This node has joined the cluster")
    return 0


# --------------------------------------------------------------------------- kubectl
def kubectl(argv: list) -> int:
    log_call(["kubectl", *argv])
    opts, rest = flags(argv, {"kubeconfig": "str", "request-timeout": "str", "server-side": "bool", "field-manager": "str",
                              "filename": "str", "output": "str", "o": "str", "raw": "str", "client": "bool",
                              "for": "str", "timeout": "str", "all": "bool", "namespace": "str", "force-conflicts": "bool"})
    if "-f" in rest:
        i = rest.index("-f")
        opts["filename"] = rest[i + 1]
        del rest[i:i + 2]
    if "-n" in rest:
        i = rest.index("-n")
        opts["namespace"] = rest[i + 1]
        del rest[i:i + 2]
    out = opts.get("o") or opts.get("output")
    conf = opts.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    verb = rest[0] if rest else ""
    if verb == "version":
        answer = {"clientVersion": {"gitVersion": VERSION}}
        if not opts.get("client"):
            answer["serverVersion"] = admin_call("GET", "/version", conf=conf)
        print(json.dumps(answer) if out == "json" else f"Client Version: {VERSION}")
        return 0
    if verb == "get" and opts.get("raw"):
        print(json.dumps(admin_call("GET", opts["raw"], conf=conf)))
        return 0
    if verb == "get" and rest[1:] == ["nodes"]:
        nodes = admin_call("GET", "/api/v1/nodes", conf=conf)
        if out == "json":
            print(json.dumps(nodes))
        elif out == "jsonpath={.items[*].metadata.name}":
            print(" ".join(n["metadata"]["name"] for n in nodes["items"]))
        else:
            raise Fail(f"stand-in kubectl get nodes: unsupported output {out!r}")
        return 0
    if verb == "diff":
        try:
            return apply_or_diff(verb, opts, conf)
        except Fail as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2  # kubectl diff: 0 same, 1 different, >1 an error
    if verb == "apply":
        return apply_or_diff(verb, opts, conf)
    if verb in ("wait", "rollout"):
        return 0 if admin_call("GET", "/readyz", conf=conf) else 1
    if verb == "delete":
        return day2_kubectl_delete(argv, conf)
    raise Fail(f"stand-in kubectl: unsupported command {argv!r}")


def apply_or_diff(verb: str, opts: dict, conf: str) -> int:
    """kubectl apply/diff --server-side of the objects in -f FILE (or - for stdin)."""
    if not opts.get("filename") or opts.get("field-manager") != "msa-platform" or not opts.get("server-side"):
        raise Fail(f"{verb}: this stand-in expects --server-side --field-manager msa-platform -f FILE")
    source = sys.stdin if opts["filename"] == "-" else open(opts["filename"], encoding="utf-8")
    docs = [d for d in yaml.safe_load_all(source) if d]
    for doc in docs:
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind") or not (doc.get("metadata") or {}).get("name"):
            raise Fail(f"error validating {opts['filename']}: every object needs apiVersion, kind and metadata.name")
    answer = admin_call("POST", "/standin/" + verb, {"objects": docs}, conf=conf)
    for line in answer["lines"]:
        print(line)
    return 1 if verb == "diff" and answer["differs"] else 0


# --------------------------------------------------------------------------- API server
class State:
    lock = threading.Lock()

    @staticmethod
    def load() -> dict:
        return json.load(open(STATE, encoding="utf-8"))

    @staticmethod
    def save(state: dict) -> None:
        tmp = STATE + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(tmp, STATE)


def key_of(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return "/".join([obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def _send(self, code: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _subject(self) -> dict:
        cert = self.connection.getpeercert() or {}
        return {k: v for rdn in cert.get("subject", ()) for k, v in rdn}

    def _admin(self) -> bool:
        org = self._subject().get("organizationName")
        if org in ("kubeadm:cluster-admins", "system:masters"):
            return True
        self._send(403, {"message": "forbidden: an admin client certificate is required"})
        return False

    def do_GET(self):
        if self.path == "/standin/cluster-info":
            with State.lock:
                state = State.load()
            return self._send(200, {"ca": state["ca"]})
        if not self._subject():
            return self._send(401, {"message": "Unauthorized"})
        with State.lock:
            state = State.load()
        if self.path == "/readyz":
            return self._send(200, "ok")
        if self.path == "/version":
            return self._send(200, {"gitVersion": state["cluster"]["kubernetesVersion"]})
        if self.path == "/api/v1/nodes":
            return self._send(200, {"kind": "NodeList", "items": [state["nodes"][n] for n in sorted(state["nodes"])]})
        if self.path == "/standin/state" and self._admin():
            return self._send(200, {k: v for k, v in state.items() if k not in ("tokens", "certs", "issued")})
        return self._send(404, {"message": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with State.lock:
            state = State.load()
            code, answer = self._post(state, body)
            if code == 200:
                State.save(state)
        self._send(code, answer)

    def _post(self, state: dict, body: dict):
        now = time.time()
        state["tokens"] = {k: v for k, v in state["tokens"].items() if v["expires"] > now}
        if self.path == "/standin/join":
            auth = self.headers.get("Authorization", "")
            match = TOKEN_RE.match(auth[7:]) if auth.startswith("Bearer ") else None
            if not match or state["tokens"].get(match.group(1), {}).get("secret") != match.group(2):
                return 401, {"message": "Unauthorized: bootstrap token unknown or expired"}
            node = body["node"]
            name = node["metadata"]["name"]
            if name in state["nodes"]:
                return 409, {"message": f"a Node with name {name!r} already exists in the cluster"}
            answer = {"cluster": state["cluster"]}
            if body["control_plane"]:
                certs = state.get("certs")
                if not state["cluster"].get("controlPlaneEndpoint"):
                    return 400, {"message": "unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address"}
                if not certs or certs["expires"] < now:
                    return 404, {"message": "Secret \"kubeadm-certs\" was not found: upload the certificates again"}
                if certs["key"] != body["certificate_key"]:
                    return 400, {"message": "error decoding certificate key: the certificate key does not match"}
                answer["bundle"] = certs["bundle"]
            with tempfile.TemporaryDirectory() as work:
                open(work + "/csr", "w", encoding="ascii").write(body["csr"])
                answer["kubelet_cert"] = openssl("x509", "-req", "-in", work + "/csr", "-CA", PKI + "/ca.crt",
                                                 "-CAkey", PKI + "/ca.key", "-CAcreateserial", "-days", "365")
            state["nodes"][name] = node
            state["events"].append({"t": now, "op": "join", "node": name, "control_plane": body["control_plane"],
                                    "certs_uploaded_at": (state.get("certs") or {}).get("at")})
            return 200, answer
        if not self._admin():
            return 403, {"message": "forbidden"}
        if self.path == "/standin/tokens":
            tok = body["token"]
            state["tokens"][tok.split(".")[0]] = {"secret": tok.split(".")[1], "expires": now + body["ttl"]}
            state["issued"].append(tok)
            state["events"].append({"t": now, "op": "token", "ttl": body["ttl"]})
            return 200, {"controlPlaneEndpoint": state["cluster"].get("controlPlaneEndpoint"), "ca": state["ca"]}
        if self.path == "/standin/upload-certs":
            state["certs"] = {"key": body["key"], "bundle": body["bundle"], "expires": now + CERT_KEY_TTL, "at": now}
            state["issued"].append(body["key"])
            state["events"].append({"t": now, "op": "upload-certs", "key_sha": hashlib.sha256(body["key"].encode()).hexdigest()[:12]})
            return 200, {}
        if self.path in ("/standin/apply", "/standin/diff"):
            lines, differs = [], False
            for obj in body["objects"]:
                key = key_of(obj)
                if state["objects"].get(key) != obj:
                    differs = True
                    lines.append(f"diff {key}")
                    if self.path == "/standin/apply":
                        state["objects"][key] = obj
                        lines[-1] = f"{obj['kind'].lower()}/{obj['metadata']['name']} serverside-applied"
                elif self.path == "/standin/apply":
                    lines.append(f"{obj['kind'].lower()}/{obj['metadata']['name']} serverside-applied")
            if self.path == "/standin/apply":
                state["events"].append({"t": now, "op": "apply", "changed": differs})
            return 200, {"lines": lines, "differs": differs}
        if self.path.startswith("/standin/day2/"):
            return day2_post(self.path, state, body, now)
        return 404, {"message": "not found"}


# --------------------------------------------------------------------------- day-2 (issue 14: upgrade, reset, delete node)
# kubeadm upgrade plan|apply|node, kubeadm reset and kubectl delete node, checked the way the real tools
# check them: kubeadm's version skew policy (apply moves the control plane one minor at a time or to a
# newer patch, never down, never past the kubeadm binary's own version; `upgrade node` follows `apply`),
# --yes / --force where the real tools would prompt, root, a joined node. Every call is in calls.log.
UPGRADE_FLAGS = {"config": "str", "kubeconfig": "str", "ignore-preflight-errors": "str", "dry-run": "bool",
                 "certificate-renewal": "str", "etcd-upgrade": "str", "patches": "str", "skip-phases": "str"}


def parse_v(text: str) -> tuple:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", str(text or "").strip())
    if not match:
        raise Fail(f"unable to parse version {text!r}: expected vMAJOR.MINOR.PATCH")
    return tuple(int(x) for x in match.groups())


def skew_problem(cluster: str, target: str) -> str:
    have, want, binary = parse_v(cluster), parse_v(target), parse_v(VERSION)
    if want > binary:
        return f"Specified version to upgrade to {target!r} is higher than the kubeadm version {VERSION!r}. Upgrade kubeadm first"
    if want[:2] != binary[:2]:
        return f"Specified version to upgrade to {target!r} is not of kubeadm's minor {VERSION!r}"
    if want < have:
        return f"Specified version to upgrade to {target!r} is lower than the cluster version {cluster!r}: downgrades are not supported"
    if want[1] > have[1] + 1:
        return (f"Specified version to upgrade to {target!r} is too high; kubeadm can upgrade only 1 minor version at a time "
                f"(the cluster runs {cluster!r})")
    return ""


def day2_root_and_joined(control_plane: bool) -> None:
    if os.geteuid() != 0:
        raise Fail("[preflight] user is not running as root")
    need = ETC + ("/admin.conf" if control_plane else "/kubelet.conf")
    if not os.path.exists(need):
        raise Fail(f"[upgrade] {need} does not exist: this node is not part of a cluster")


def day2_set_manifest_versions(version: str) -> None:
    for pod in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        path = f"{ETC}/manifests/{pod}.yaml"
        if os.path.exists(path):
            manifest = yaml.safe_load(open(path, encoding="utf-8"))
            manifest["spec"]["containers"][0]["image"] = f"registry.k8s.io/{pod}:{version}"
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(manifest, handle)


def day2_kubeadm(argv: list) -> int:
    if argv[:2] == ["upgrade", "plan"]:
        _opts, rest = flags(argv[2:], dict(UPGRADE_FLAGS, output="str", o="str", **{"print-config": "bool"}))
        day2_root_and_joined(True)
        cluster = admin_call("GET", "/version")["gitVersion"]
        target = rest[0] if rest else VERSION
        if len(rest) > 1:
            raise Fail(f"unexpected arguments {rest[1:]!r}")
        problem = skew_problem(cluster, target)
        if problem:
            raise Fail(f"[upgrade/versions] FATAL: {problem}")
        print(f"[upgrade/versions] Cluster version: {cluster}\n[upgrade/versions] kubeadm version: {VERSION}\n"
              f"Upgrade to the latest version in the {target[:5]} series:\n\nYou can now apply the upgrade by executing "
              f"the following command:\n\n\tkubeadm upgrade apply {target}")
        return 0
    if argv[:2] == ["upgrade", "apply"]:
        opts, rest = flags(argv[2:], dict(UPGRADE_FLAGS, yes="bool", force="bool"))
        if len(rest) != 1:
            raise Fail("[upgrade] kubeadm upgrade apply takes exactly one argument: the version to upgrade to")
        day2_root_and_joined(True)
        if not opts.get("yes"):
            raise Fail("won't proceed; the user didn't answer (Y|y) in order to continue")
        cluster = admin_call("GET", "/version")["gitVersion"]
        problem = skew_problem(cluster, rest[0])
        if problem:
            raise Fail(f"[upgrade/version] FATAL: {problem}")
        admin_call("POST", "/standin/day2/upgrade-apply", {"version": rest[0], "node": os.uname().nodename})
        day2_set_manifest_versions(rest[0])
        print(f"[upgrade] SUCCESS! A control plane node of your cluster was upgraded to \"{rest[0]}\".")
        return 0
    if argv[:2] == ["upgrade", "node"]:
        _opts, rest = flags(argv[2:], UPGRADE_FLAGS)
        if rest:
            raise Fail(f"unexpected arguments {rest!r}")
        control_plane = os.path.exists(ETC + "/manifests/kube-apiserver.yaml")
        day2_root_and_joined(control_plane)
        conf = ETC + ("/admin.conf" if control_plane else "/kubelet.conf")
        kc = kubeconfig(conf)
        cluster = call(kc["server"], "GET", "/version", None, kc["ca"], kc["cert"], kc["key"])["gitVersion"]
        if parse_v(cluster) > parse_v(VERSION):
            raise Fail(f"[upgrade] the control plane runs {cluster}, newer than this kubeadm {VERSION}: upgrade kubeadm first")
        if parse_v(cluster) != parse_v(VERSION):
            raise Fail(f"[upgrade] the cluster runs {cluster} but this kubeadm is {VERSION}: run `kubeadm upgrade apply "
                       f"{VERSION}` on the first control plane before `kubeadm upgrade node`")
        if control_plane:
            day2_set_manifest_versions(cluster)
        print("[upgrade] The configuration for this node was successfully upgraded!")
        return 0
    if argv[:1] == ["reset"]:
        opts, rest = flags(argv[1:], {"force": "bool", "cri-socket": "str", "cleanup-tmp-dir": "bool", "skip-phases": "str",
                                      "kubeconfig": "str", "cert-dir": "str", "dry-run": "bool", "ignore-preflight-errors": "str"})
        if rest:
            raise Fail(f"unexpected arguments {rest!r}")
        if os.geteuid() != 0:
            raise Fail("[preflight] user is not running as root")
        if not opts.get("force"):
            raise Fail("won't proceed; the user didn't answer (Y|y) in order to continue")
        if os.path.exists(ETC + "/manifests/etcd.yaml") and os.path.exists(ETC + "/admin.conf"):
            try:  # phase remove-etcd-member: best effort, as kubeadm (a warning when the cluster is gone)
                admin_call("POST", "/standin/day2/etcd-member-remove", {"node": os.uname().nodename}, timeout=5)
            except Fail as exc:
                print(f"[reset] Failed to remove etcd member: {exc}; please manually remove this etcd member", file=sys.stderr)
        if os.path.exists(STATE):
            subprocess.run(["systemctl", "disable", "--now", "standin-apiserver.service"], check=False, capture_output=True)
            os.remove(STATE)
        for path in ("manifests", "pki", "admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf",
                     "scheduler.conf", "bootstrap-kubelet.conf"):
            target = f"{ETC}/{path}"
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.remove(target)
        for path in ("/var/lib/kubelet/config.yaml", "/var/lib/kubelet/kubeadm-flags.env"):
            if os.path.exists(path):
                os.remove(path)
        shutil.rmtree("/var/lib/etcd", ignore_errors=True)
        print("[reset] Deleted contents of the etcd data directory: /var/lib/etcd")
        return 0
    raise Fail(f"stand-in kubeadm: unsupported command {argv!r}")


def day2_kubectl_delete(argv: list, conf: str) -> int:
    _opts, rest = flags(argv, {"kubeconfig": "str", "request-timeout": "str"})
    if rest[:1] != ["delete"] or len(rest) != 3 or rest[1] not in ("node", "nodes"):
        raise Fail(f"stand-in kubectl delete: only `delete node NAME` is supported, got {argv!r}")
    admin_call("POST", "/standin/day2/delete-node", {"name": rest[2]}, conf=conf)
    print(f'node "{rest[2]}" deleted')
    return 0


def day2_post(path: str, state: dict, body: dict, now: float):
    if path == "/standin/day2/upgrade-apply":
        before = state["cluster"]["kubernetesVersion"]
        state["cluster"]["kubernetesVersion"] = body["version"]
        state["events"].append({"t": now, "op": "upgrade-apply", "node": body["node"], "from": before, "to": body["version"]})
        return 200, {}
    if path == "/standin/day2/etcd-member-remove":
        removed = state.setdefault("etcd_removed", [])
        if body["node"] not in removed:
            removed.append(body["node"])
        state["events"].append({"t": now, "op": "etcd-member-remove", "node": body["node"]})
        return 200, {}
    if path == "/standin/day2/delete-node":
        if body["name"] not in state["nodes"]:
            return 404, {"message": 'Error from server (NotFound): nodes "{}" not found'.format(body["name"])}
        del state["nodes"][body["name"]]
        state["events"].append({"t": now, "op": "delete-node", "node": body["name"]})
        return 200, {"deleted": True}
    return 404, {"message": "not found"}


def apiserver() -> int:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(PKI + "/apiserver.crt", PKI + "/apiserver.key")
    ctx.load_verify_locations(PKI + "/ca.crt")
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server = ThreadingHTTPServer(("0.0.0.0", 6443), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
    return 0


# --------------------------------------------------------------------------- certs and etcd (issue 14, etcd/certs)
# kubeadm certs check-expiration / certs renew, the etcd PKI kubeadm writes on a control plane, and a
# "kubelet" for the etcd and kube-apiserver static pods: `pods` runs the REAL etcd (Debian's etcd-server)
# with the flags of /etc/kubernetes/manifests/etcd.yaml while that file exists, and starts/stops the
# stand-in API server with kube-apiserver.yaml, so moving a manifest out and in restarts a "pod".
# Only the node that ran `kubeadm init` runs etcd: a one-member cluster (joins do not add members).
LEAF_CERTS = {  # kubeadm's certificate names -> (file under pki or kubeconfig, signing CA)
    "admin.conf": ("admin.conf", "ca"), "apiserver": ("apiserver", "ca"),
    "apiserver-etcd-client": ("apiserver-etcd-client", "etcd/ca"),
    "apiserver-kubelet-client": ("apiserver-kubelet-client", "ca"),
    "controller-manager.conf": ("controller-manager.conf", "ca"),
    "etcd-healthcheck-client": ("etcd/healthcheck-client", "etcd/ca"), "etcd-peer": ("etcd/peer", "etcd/ca"),
    "etcd-server": ("etcd/server", "etcd/ca"), "front-proxy-client": ("front-proxy-client", "front-proxy-ca"),
    "scheduler.conf": ("scheduler.conf", "ca"), "super-admin.conf": ("super-admin.conf", "ca"),
}
CAS = {"ca": "ca", "etcd-ca": "etcd/ca", "front-proxy-ca": "front-proxy-ca"}


def write_etcd_pki(name: str, adv: str) -> None:
    """The etcd and front-proxy leaf certificates kubeadm writes on every control plane."""
    sans = ["localhost", name, "127.0.0.1"] + ([adv] if adv else [])
    new_cert(PKI + "/etcd/server", PKI + "/etcd/ca", f"/CN={name}", sans, usage="serverAuth,clientAuth")
    new_cert(PKI + "/etcd/peer", PKI + "/etcd/ca", f"/CN={name}", sans, usage="serverAuth,clientAuth")
    new_cert(PKI + "/etcd/healthcheck-client", PKI + "/etcd/ca", "/CN=kube-etcd-healthcheck-client", usage="clientAuth")
    new_cert(PKI + "/apiserver-etcd-client", PKI + "/etcd/ca", "/CN=kube-apiserver-etcd-client", usage="clientAuth")
    new_cert(PKI + "/front-proxy-client", PKI + "/front-proxy-ca", "/CN=front-proxy-client", usage="clientAuth")


def write_etcd_manifest(name: str, adv: str) -> None:
    """etcd.yaml with the command kubeadm's etcd phase writes (flags etcd 3.4 also knows)."""
    ip = adv or "127.0.0.1"
    command = ["etcd", f"--advertise-client-urls=https://{ip}:2379", f"--cert-file={PKI}/etcd/server.crt",
               "--client-cert-auth=true", "--data-dir=/var/lib/etcd", f"--initial-advertise-peer-urls=https://{ip}:2380",
               f"--initial-cluster={name}=https://{ip}:2380", f"--key-file={PKI}/etcd/server.key",
               f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379", "--listen-metrics-urls=http://127.0.0.1:2381",
               f"--listen-peer-urls=https://{ip}:2380", f"--name={name}", f"--peer-cert-file={PKI}/etcd/peer.crt",
               "--peer-client-cert-auth=true", f"--peer-key-file={PKI}/etcd/peer.key",
               f"--peer-trusted-ca-file={PKI}/etcd/ca.crt", "--snapshot-count=10000", f"--trusted-ca-file={PKI}/etcd/ca.crt"]
    manifest = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "etcd", "namespace": "kube-system", "labels": {"component": "etcd", "tier": "control-plane"}},
                "spec": {"hostNetwork": True, "containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.6.5-0", "command": command}],
                         "volumes": [{"name": "etcd-data", "hostPath": {"path": "/var/lib/etcd", "type": "DirectoryOrCreate"}}]}}
    with open(ETC + "/manifests/etcd.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(manifest, handle)
    os.makedirs("/var/lib/etcd", mode=0o700, exist_ok=True)


def cert_pem(name: str) -> tuple:
    """(certificate PEM, path) of kubeadm certificate `name`: a pki file or a kubeconfig's embedded cert."""
    rel = LEAF_CERTS[name][0] if name in LEAF_CERTS else CAS[name]
    if rel.endswith(".conf"):
        path = f"{ETC}/{rel}"
        if not os.path.exists(path):
            return None, path
        return kubeconfig(path)["cert"], path
    path = f"{PKI}/{rel}.crt"
    return (open(path, encoding="ascii").read() if os.path.exists(path) else None), path


def not_after(pem: str) -> float:
    text = openssl("x509", "-noout", "-enddate", stdin=pem).strip().split("=", 1)[1]
    return calendar.timegm(time.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT"))


def residual(seconds: float) -> str:
    """Go's duration.ShortHumanDuration, as kubeadm prints RESIDUAL TIME."""
    if seconds < 0:
        return "<invalid>"
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= (2 * size if unit == "y" else size):
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def certs_check_expiration(argv: list) -> int:
    flags(argv, {"cert-dir": "str", "config": "str", "kubeconfig": "str"})
    if os.geteuid() != 0:
        raise Fail("[preflight] user is not running as root")
    print('[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    print("[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.\n")
    fmt = "{:<27}{:<25}{:<16}{:<24}{:<8}"
    print(fmt.format("CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED").rstrip())
    for name in sorted(LEAF_CERTS):
        pem, _path = cert_pem(name)
        if pem is None:
            print(f"!MISSING! {name}")
            continue
        end = not_after(pem)
        ca = {"ca": "ca", "etcd/ca": "etcd-ca", "front-proxy-ca": "front-proxy-ca"}[LEAF_CERTS[name][1]]
        print(fmt.format(name, time.strftime("%b %d, %Y %H:%M UTC", time.gmtime(end)), residual(end - time.time()), ca, "no"))
    print()
    fmt = "{:<24}{:<25}{:<16}{:<8}"
    print(fmt.format("CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED").rstrip())
    for name in CAS:
        pem, _path = cert_pem(name)
        end = not_after(pem)
        print(fmt.format(name, time.strftime("%b %d, %Y %H:%M UTC", time.gmtime(end)), residual(end - time.time()), "no"))
    return 0


def renew_one(name: str, days: int) -> None:
    """Re-sign certificate `name` with its CA, same subject and SANs, same key (as kubeadm renew does)."""
    pem, path = cert_pem(name)
    if pem is None:
        raise Fail(f"[renew] {name}: the certificate is missing (kubeadm renews only existing certificates)")
    ca = PKI + "/" + LEAF_CERTS[name][1]
    subject = openssl("x509", "-noout", "-subject", "-nameopt", "compat", stdin=pem).strip().split("=", 1)[1].strip()
    sans = openssl("x509", "-noout", "-ext", "subjectAltName", stdin=pem).splitlines()[1:]
    eku = openssl("x509", "-noout", "-ext", "extendedKeyUsage", stdin=pem).splitlines()[1:]
    usages = {"TLS Web Server Authentication": "serverAuth", "TLS Web Client Authentication": "clientAuth"}
    work = tempfile.mkdtemp()
    try:
        if path.endswith(".conf"):
            kc = kubeconfig(path)
            open(work + "/k.key", "w", encoding="ascii").write(kc["key"])
            key = work + "/k.key"
        else:
            key = path[:-4] + ".key"
        openssl("req", "-new", "-key", key, "-subj", subject, "-out", work + "/csr")
        with open(work + "/ext", "w", encoding="ascii") as ext:
            ext.write("basicConstraints=CA:FALSE\n")
            if sans:
                ext.write("subjectAltName=" + sans[0].strip().replace("IP Address:", "IP:") + "\n")
            if eku:
                ext.write("extendedKeyUsage=" + ",".join(usages[u.strip()] for u in eku[0].split(",")) + "\n")
        openssl("x509", "-req", "-in", work + "/csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", work + "/crt", "-days", str(days), "-extfile", work + "/ext")
        if path.endswith(".conf"):
            conf = yaml.safe_load(open(path, encoding="utf-8"))
            conf["users"][0]["user"]["client-certificate-data"] = b64(work + "/crt")
            with open(os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
                yaml.safe_dump(conf, handle)
        else:
            shutil.copyfile(work + "/crt", path)
    finally:
        shutil.rmtree(work)


def certs_renew(argv: list) -> int:
    _opts, rest = flags(argv, {"cert-dir": "str", "config": "str", "kubeconfig": "str"})
    if os.geteuid() != 0:
        raise Fail("[preflight] user is not running as root")
    if len(rest) != 1 or rest[0] not in (*LEAF_CERTS, "all"):
        raise Fail(f"renew: one of {', '.join(['all', *sorted(LEAF_CERTS)])} is required, got {rest!r}")
    days = int(os.environ.get("STANDIN_CERT_DAYS", "365"))
    for name in sorted(LEAF_CERTS) if rest[0] == "all" else rest:
        if name == "super-admin.conf" and not os.path.exists(ETC + "/super-admin.conf"):
            continue
        renew_one(name, days)
        print(f"certificate {'embedded in the kubeconfig file for ' + name if name.endswith('.conf') else 'for ' + name} renewed")
    print("\nDone renewing certificates. You must restart the kube-apiserver, kube-controller-manager, "
          "kube-scheduler and etcd, so that they can use the new certificates.")
    return 0


def pods() -> int:
    """The static-pod part of a kubelet (see the block comment). etcd runs for real when its manifest has a
    command; the API server is the stand-in unit where the cluster state lives (the init node); other
    components, and those this node cannot run, hold their port open while their manifest is in place."""
    import socket
    etcd, args, held = None, None, {}
    while True:
        path = ETC + "/manifests/etcd.yaml"
        want = None
        if os.path.exists(path):
            try:
                want = (yaml.safe_load(open(path, encoding="utf-8")) or {})["spec"]["containers"][0].get("command")
            except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
                want = None
        if etcd is not None and (want != args or etcd.poll() is not None):
            etcd.terminate()
            etcd.wait()
            etcd = None
        if want and want[0] == "etcd" and etcd is None:
            args = want
            etcd = subprocess.Popen(["/usr/bin/etcd", *want[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.path.exists(STATE):
            api = os.path.exists(ETC + "/manifests/kube-apiserver.yaml")
            unit = "standin-apiserver.service"
            active = subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0
            if api != active:
                subprocess.run(["systemctl", "start" if api else "stop", unit], check=False, capture_output=True)
        for pod, port in (("kube-controller-manager", 10257), ("kube-scheduler", 10259)):
            present = os.path.exists(f"{ETC}/manifests/{pod}.yaml")
            if present and pod not in held:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
                sock.listen(16)
                held[pod] = sock
            elif not present and pod in held:
                held.pop(pod).close()
        time.sleep(0.5)


def main() -> int:
    # Installed as /usr/local/lib/kube_standin.py, run by wrappers: python3 kube_standin.py <tool> ARGS
    tool = os.path.basename(sys.argv[0])
    argv = sys.argv[1:]
    if tool == "kube_standin.py" and argv:
        tool, argv = argv[0], argv[1:]
    try:
        if tool == "kubeadm":
            return kubeadm(argv)
        if tool == "kubectl":
            return kubectl(argv)
        if tool == "kubelet":
            log_call(["kubelet", *argv])  # day-2: an upgrade's first step on a node reads it
            if argv == ["--version"]:
                print(f"Kubernetes {VERSION}")
                return 0
            raise Fail("stand-in kubelet: only --version is supported (there is no kubelet here)")
        if tool == "apiserver":
            return apiserver()
        if tool == "pods":
            return pods()
        raise Fail(f"unknown stand-in tool {tool!r}")
    except Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
