# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to reach the Kubernetes API from our modules.

The options are those of kubernetes.core's ``k8s_auth_options`` doc fragment (modules extend it and
use ``AUTH_ARG_SPEC``), with the same ``K8S_AUTH_*`` environment fallbacks. Configuration is
loaded from a kubeconfig (a path, several joined by ``:`` as in KUBECONFIG, or a dict; optional context); when no kubeconfig is
given and none exists at the default place, the in-cluster service account is used; explicit
options (host, api_key, ca_cert, ...) override what was loaded. Calls return plain dicts parsed
from the JSON body (no model objects: faster for thousands of nodes, and annotations keep their
names), and every failure becomes a ``KubeApiError`` with a message a human can act on.
"""

from __future__ import annotations

import json
import os
import traceback

from ansible_collections.msa.platform.plugins.module_utils.module_args import path_or_mapping, url

try:
    import urllib3
    from kubernetes import client as kube_client
    from kubernetes import config as kube_config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None

MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT = (10, 60)  # seconds: connect, read

AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="raw", no_log=True),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"]),
    proxy=dict(type="str"),
    no_proxy=dict(type="str"),
    proxy_headers=dict(type="dict", options=dict(
        proxy_basic_auth=dict(type="str", no_log=True),
        basic_auth=dict(type="str", no_log=True),
        user_agent=dict(type="str"),
    )),
    persist_config=dict(type="bool"),
    impersonate_user=dict(type="str"),
    impersonate_groups=dict(type="list", elements="str"),
)

# check_arguments rules for the auth options (types and control characters are checked for all).
AUTH_RULES = dict(kubeconfig=path_or_mapping, host=url, proxy=url)

_ENV = dict(
    kubeconfig="K8S_AUTH_KUBECONFIG", context="K8S_AUTH_CONTEXT", host="K8S_AUTH_HOST",
    api_key="K8S_AUTH_API_KEY", username="K8S_AUTH_USERNAME", password="K8S_AUTH_PASSWORD",
    validate_certs="K8S_AUTH_VERIFY_SSL", ca_cert="K8S_AUTH_SSL_CA_CERT", client_cert="K8S_AUTH_CERT_FILE",
    client_key="K8S_AUTH_KEY_FILE", proxy="K8S_AUTH_PROXY", no_proxy="K8S_AUTH_NO_PROXY",
    persist_config="K8S_AUTH_PERSIST_CONFIG", impersonate_user="K8S_AUTH_IMPERSONATE_USER",
    impersonate_groups="K8S_AUTH_IMPERSONATE_GROUPS",
)


class KubeApiError(Exception):
    """A failed call: ``status`` is the HTTP code (None when the API could not be reached)."""

    def __init__(self, message, status=None, reason=None):
        super().__init__(message)
        self.status = status
        self.reason = reason


def auth_options(params, environ=None):
    """Module params with the ``K8S_AUTH_*`` environment variables filling the unset ones."""
    environ = os.environ if environ is None else environ
    options = dict((name, params.get(name)) for name in AUTH_ARG_SPEC)
    for name, var in _ENV.items():
        if options.get(name) is None and environ.get(var):
            value = environ[var]
            if name in ("validate_certs", "persist_config"):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            elif name == "impersonate_groups":
                value = [group.strip() for group in value.split(",") if group.strip()]
            options[name] = value
    return options


def build_configuration(options):
    """A ``kubernetes.client.Configuration`` from resolved auth options (see ``auth_options``)."""
    configuration = kube_client.Configuration()
    kubeconfig = options.get("kubeconfig")
    default_file = os.path.expanduser(kube_config.KUBE_CONFIG_DEFAULT_LOCATION)
    explicit = options.get("host") and (options.get("api_key") or options.get("username") or options.get("client_cert"))
    try:
        if isinstance(kubeconfig, dict):
            kube_config.load_kube_config_from_dict(kubeconfig, context=options.get("context"),
                                                   client_configuration=configuration,
                                                   persist_config=bool(options.get("persist_config")))
        elif kubeconfig or options.get("context") or (not explicit and os.path.exists(default_file)):
            kube_config.load_kube_config(config_file=kubeconfig or None, context=options.get("context"),
                                         client_configuration=configuration,
                                         persist_config=bool(options.get("persist_config")))
        elif not explicit:
            kube_config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        source = "<dict>" if isinstance(kubeconfig, dict) else kubeconfig
        raise KubeApiError(f"cannot load the Kubernetes client configuration (kubeconfig={source}, "
                           f"context={options.get('context')}): {exc}") from exc
    if options.get("host"):
        configuration.host = options["host"]
    header = None
    if options.get("api_key"):
        header = "Bearer " + options["api_key"]
    elif options.get("username") and options.get("password"):
        header = urllib3.util.make_headers(basic_auth=f"{options['username']}:{options['password']}")["authorization"]
    if header:
        # client >= 36 reads 'BearerToken', older ones 'authorization'; a kubeconfig's token refresh must not win.
        configuration.api_key = {"BearerToken": header, "authorization": header}
        configuration.api_key_prefix = {}
        configuration.refresh_api_key_hook = None
    if options.get("validate_certs") is not None:
        configuration.verify_ssl = options["validate_certs"]
    for option, attribute in (("ca_cert", "ssl_ca_cert"), ("client_cert", "cert_file"), ("client_key", "key_file"),
                              ("proxy", "proxy"), ("no_proxy", "no_proxy")):
        if options.get(option):
            setattr(configuration, attribute, options[option])
    headers = dict((key, value) for key, value in (options.get("proxy_headers") or {}).items() if value)
    if headers:
        configuration.proxy_headers = urllib3.util.make_headers(**headers)
    return configuration


def _status_message(exc):
    """The ``message`` of the Status object a Kubernetes API error carries, else the raw text."""
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else (exc.body or "")
    try:
        status = json.loads(body)
    except ValueError:
        return body.strip() or exc.reason
    return status.get("message") or exc.reason if isinstance(status, dict) else body


class NodeApi:
    """The few node and pod calls our modules make, on raw JSON."""

    def __init__(self, api_client):
        self.core = kube_client.CoreV1Api(api_client)
        self.host = api_client.configuration.host

    def _call(self, what, method, *args, **kwargs):
        kwargs.update(_preload_content=False, _request_timeout=REQUEST_TIMEOUT)
        try:
            response = method(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 401:
                message = f"the Kubernetes API at {self.host} refused the credentials (401 Unauthorized)"
            else:
                message = f"{what}: {_status_message(exc)} (HTTP {exc.status})"
            raise KubeApiError(message, status=exc.status, reason=exc.reason) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise KubeApiError(f"{what}: cannot reach the Kubernetes API at {self.host}: {exc}") from exc
        return json.loads(response.data)

    def list_nodes(self, label_selector=None):
        kwargs = {"label_selector": label_selector} if label_selector else {}
        return self._call("listing nodes", self.core.list_node, **kwargs)["items"]

    def read_node(self, name):
        return self._call(f"reading node {name}", self.core.read_node, name)

    def patch_node(self, name, patch):
        return self._call(f"patching node {name}", self.core.patch_node, name, patch, _content_type=MERGE_PATCH)

    def list_pods(self, namespace=None):
        if namespace:
            return self._call(f"listing pods in {namespace}", self.core.list_namespaced_pod, namespace)["items"]
        return self._call("listing pods", self.core.list_pod_for_all_namespaces)["items"]


def node_api(params, environ=None):
    """A ``NodeApi`` from module params (auth options as in kubernetes.core's doc fragment)."""
    return NodeApi(api_client_of(params, environ))


def api_client_of(params, environ=None):
    """A ``kubernetes.client.ApiClient`` from module params (auth options as in kubernetes.core's doc fragment)."""
    options = auth_options(params, environ)
    api_client = kube_client.ApiClient(build_configuration(options))
    if options.get("impersonate_user"):
        api_client.set_default_header("Impersonate-User", options["impersonate_user"])
    groups = options.get("impersonate_groups") or []
    if len(groups) > 1:
        # The client keeps one value per header name; the API needs one Impersonate-Group header per group.
        raise KubeApiError(f"impersonate_groups: this module can impersonate one group, got {len(groups)}")
    if groups:
        api_client.set_default_header("Impersonate-Group", groups[0])
    return api_client
