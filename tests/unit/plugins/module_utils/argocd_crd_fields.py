"""The field sets of ArgoCD's Application and ApplicationSet (argoproj.io/v1alpha1) that the platform's objects may
use, as strict JSON Schemas (unknown fields fail), written from the CRDs of the ArgoCD v3.1 line
(manifests/crds/application-crd.yaml and applicationset-crd.yaml of argoproj/argo-cd): the spec, source,
destination and sync policy parts, with their types and required fields. Status and operation fields are left
out: the platform never writes them. Version: module_utils/addons.ARGOCD_VERSION.
"""
from __future__ import annotations

STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
STRS = {"type": "array", "items": STR}
STR_MAP = {"type": "object", "additionalProperties": STR}
ANY_OBJ = {"type": "object"}


def obj(props: dict, required=()) -> dict:
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def arr(item: dict) -> dict:
    return {"type": "array", "items": item}


_JSONNET_VAR = obj({"name": STR, "value": STR, "code": BOOL}, ["name", "value"])
DIRECTORY = obj({"recurse": BOOL, "include": STR, "exclude": STR,
                 "jsonnet": obj({"extVars": arr(_JSONNET_VAR), "tlas": arr(_JSONNET_VAR), "libs": STRS})})
HELM = obj({"valueFiles": STRS, "values": STR, "valuesObject": ANY_OBJ, "releaseName": STR, "namespace": STR,
            "parameters": arr(obj({"name": STR, "value": STR, "forceString": BOOL})),
            "fileParameters": arr(obj({"name": STR, "path": STR})), "passCredentials": BOOL, "ignoreMissingValueFiles": BOOL,
            "skipCrds": BOOL, "skipSchemaValidation": BOOL, "skipTests": BOOL, "version": STR, "kubeVersion": STR,
            "apiVersions": STRS})
KUSTOMIZE_SELECTOR = obj({"group": STR, "version": STR, "kind": STR, "name": STR, "namespace": STR, "labelSelector": STR,
                          "annotationSelector": STR})
KUSTOMIZE = obj({"namePrefix": STR, "nameSuffix": STR, "images": STRS, "namespace": STR, "commonLabels": STR_MAP,
                 "commonAnnotations": STR_MAP, "commonAnnotationsEnvsubst": BOOL, "forceCommonLabels": BOOL,
                 "forceCommonAnnotations": BOOL, "labelWithoutSelector": BOOL, "labelIncludeTemplates": BOOL,
                 "replicas": arr(obj({"name": STR, "count": {"type": ["integer", "string"]}}, ["name", "count"])),
                 "patches": arr(obj({"patch": STR, "path": STR, "target": KUSTOMIZE_SELECTOR,
                                     "options": {"type": "object", "additionalProperties": BOOL}})),
                 "components": STRS, "ignoreMissingComponents": BOOL, "version": STR, "kubeVersion": STR, "apiVersions": STRS})
PLUGIN = obj({"name": STR, "env": arr(obj({"name": STR, "value": STR}, ["name", "value"])),
              "parameters": arr(obj({"name": STR, "string": STR, "array": STRS, "map": STR_MAP}))})
SOURCE = obj({"repoURL": STR, "path": STR, "targetRevision": STR, "chart": STR, "ref": STR, "name": STR,
              "directory": DIRECTORY, "helm": HELM, "kustomize": KUSTOMIZE, "plugin": PLUGIN}, ["repoURL"])
DESTINATION = obj({"server": STR, "namespace": STR, "name": STR})
SYNC_POLICY = obj({
    "automated": obj({"prune": BOOL, "selfHeal": BOOL, "allowEmpty": BOOL, "enabled": BOOL}),
    "syncOptions": STRS,
    "retry": obj({"limit": INT, "refresh": BOOL, "backoff": obj({"duration": STR, "factor": INT, "maxDuration": STR})}),
    "managedNamespaceMetadata": obj({"labels": STR_MAP, "annotations": STR_MAP}),
})
IGNORE_DIFFERENCES = arr(obj({"group": STR, "kind": STR, "name": STR, "namespace": STR, "jsonPointers": STRS,
                              "jqPathExpressions": STRS, "managedFieldsManagers": STRS}, ["kind"]))
APPLICATION_SPEC = obj({"project": STR, "source": SOURCE, "sources": arr(SOURCE), "destination": DESTINATION,
                        "syncPolicy": SYNC_POLICY, "ignoreDifferences": IGNORE_DIFFERENCES,
                        "info": arr(obj({"name": STR, "value": STR}, ["name", "value"])), "revisionHistoryLimit": INT},
                       ["destination", "project"])
OBJECT_META = obj({"name": STR, "namespace": STR, "labels": STR_MAP, "annotations": STR_MAP, "finalizers": STRS})
APPLICATION = obj({"apiVersion": {"const": "argoproj.io/v1alpha1"}, "kind": {"const": "Application"},
                   "metadata": OBJECT_META, "spec": APPLICATION_SPEC}, ["apiVersion", "kind", "metadata", "spec"])
LIST_GENERATOR = obj({"elements": arr({}), "elementsYaml": STR, "template": ANY_OBJ})
APPLICATIONSET = obj({
    "apiVersion": {"const": "argoproj.io/v1alpha1"}, "kind": {"const": "ApplicationSet"}, "metadata": OBJECT_META,
    "spec": obj({
        "goTemplate": BOOL, "goTemplateOptions": STRS,
        # other generators (clusters, git, matrix, ...) exist in the CRD; the platform uses the list generator only
        "generators": arr(obj({"list": LIST_GENERATOR, "selector": ANY_OBJ})),
        "template": obj({"metadata": obj({"name": STR, "namespace": STR, "labels": STR_MAP, "annotations": STR_MAP,
                                          "finalizers": STRS}),
                         "spec": APPLICATION_SPEC}, ["metadata", "spec"]),
        "syncPolicy": obj({"preserveResourcesOnDeletion": BOOL,
                           "applicationsSync": {"enum": ["create-only", "create-update", "create-delete", "sync"]}}),
        "strategy": ANY_OBJ, "preservedFields": ANY_OBJ, "ignoreApplicationDifferences": arr(ANY_OBJ), "templatePatch": STR,
    }, ["generators", "template"]),
}, ["apiVersion", "kind", "metadata", "spec"])
SCHEMAS = {"Application": APPLICATION, "ApplicationSet": APPLICATIONSET}
