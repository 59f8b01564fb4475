#!/usr/bin/python
# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: k8s_objects
short_description: Apply a list of Kubernetes objects in one call, changing only what differs
version_added: "0.3.0"
description:
  - Applies every object of I(objects) in order, in one task - one GET per object, then a create (POST)
    when it is missing or a JSON merge patch (RFC 7386) when a field it declares differs on the server.
    Fields the server adds (defaults, status, server metadata) are not compared, so a converged cluster
    reports C(changed=false) and no request but the GETs is made.
  - Objects in I(patch_only) are patched when they exist and never created (for example demoting the
    default StorageClass that EKS made, which a kubeadm cluster does not have).
  - Kinds and their REST paths come from a fixed table (no API discovery) - Namespace, ServiceAccount,
    ConfigMap, ResourceQuota, LimitRange, NetworkPolicy, Ingress, IngressClass, StorageClass,
    CustomResourceDefinition and ArgoCD's Application, ApplicationSet and AppProject. Another kind fails
    before any request, naming the item.
  - A custom resource is applied once its CustomResourceDefinition is Established (waited for up to
    I(crd_timeout) seconds), since a chart's CRDs are served a moment after the chart is installed.
  - A merge patch does not remove a field that an earlier version of the object declared and this one
    no longer does; a field is removed by declaring it C(null).
author:
  - msa.platform maintainers (@msa-platform)
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reads every object and reports what would be created or patched, without writing.
  diff_mode:
    support: full
    description: C(before) and C(after) list the declared fields of each object that changes.
options:
  objects:
    description: Kubernetes objects (dicts with apiVersion, kind, metadata.name and, when namespaced, metadata.namespace).
    type: list
    elements: raw
    default: []
  patch_only:
    description: Objects patched only if they exist, never created.
    type: list
    elements: raw
    default: []
  crd_timeout:
    description: Seconds to wait for the CustomResourceDefinitions of custom resources in I(objects) to be Established.
    type: int
    default: 300
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Namespace and quota of the order domain
  msa.platform.k8s_objects:
    kubeconfig: ~/.kube/config
    objects:
      - {apiVersion: v1, kind: Namespace, metadata: {name: order}}
      - apiVersion: v1
        kind: ResourceQuota
        metadata: {name: order, namespace: order}
        spec: {hard: {requests.cpu: "4", requests.memory: 8Gi}}

- name: Demote EKS's gp2 default StorageClass if it is there
  msa.platform.k8s_objects:
    patch_only:
      - apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: gp2
          annotations: {storageclass.kubernetes.io/is-default-class: "false"}
"""

RETURN = r"""
objects:
  description: One entry per object of I(objects) then I(patch_only), in order, with what was (or in check mode would be) done.
  returned: success
  type: list
  elements: dict
  contains:
    kind: {description: Kind of the object., type: str, returned: always, sample: Namespace}
    namespace: {description: Namespace (null for a cluster-scoped object)., type: str, returned: always, sample: order}
    name: {description: Name of the object., type: str, returned: always, sample: order}
    action:
      description: C(create), C(patch), C(unchanged), or C(absent) for a patch-only object that does not exist.
      type: str
      returned: always
      sample: create
requests:
  description: HTTP requests made to the API server.
  returned: success
  type: int
  sample: 12
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.msa.platform.plugins.module_utils.k8s_client import (
    AUTH_ARG_SPEC,
    AUTH_RULES,
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    KubeApiError,
    api_client_of,
)
from ansible_collections.msa.platform.plugins.module_utils.k8s_objects import ObjectApi, apply_objects, object_problems
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, int_range


def main():
    argument_spec = dict(AUTH_ARG_SPEC)
    argument_spec.update(
        objects=dict(type="list", elements="raw", default=[]),
        patch_only=dict(type="list", elements="raw", default=[]),
        crd_timeout=dict(type="int", default=300),
    )
    module = build_module(AnsibleModule, argument_spec, dict(AUTH_RULES, crd_timeout=int_range(0, 3600)),
                          supports_check_mode=True)
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    params = module.params
    errors = object_problems(params["objects"], "objects") + object_problems(params["patch_only"], "patch_only")
    if errors:
        module.fail_json(msg="invalid input: " + "; ".join(errors), errors=errors)
    api = None
    try:
        api = ObjectApi(api_client_of(params), KubeApiError)
        results, diff = apply_objects(api, params["objects"], params["patch_only"], module.check_mode, params["crd_timeout"])
    except KubeApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, requests=api.requests if api else 0)
    result = dict(changed=any(r["action"] in ("create", "patch") for r in results), objects=results, requests=api.requests)
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
