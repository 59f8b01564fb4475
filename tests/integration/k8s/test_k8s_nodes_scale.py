"""1000 nodes: one module call makes exactly 1 LIST + one PATCH per node that needs a change."""
from __future__ import annotations

NODES = [f"api-{i:04d}" for i in range(1000)]
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_thousand_nodes_labels_and_taints(kube, module):
    for name in NODES:
        kube.add_node(name, taints=[CONTROL_PLANE])
    labels = {name: {"api": f"api-{i % 20}", "workload": "api"} for i, name in enumerate(NODES)}
    taints = {name: [{"key": "dedicated", "value": "api", "effect": "NoSchedule"}] for name in NODES}

    def run(name, nodes):
        kube.reset_counts()
        result = module(name, nodes=nodes)
        assert not result.get("failed"), result.get("msg")
        return result, (kube.count("list"), kube.count("get"), kube.count("patch"))

    assert run("k8s_node_labels", labels)[1] == (1, 0, 1000)
    result, counts = run("k8s_node_labels", labels)
    assert counts == (1, 0, 0) and not result["changed"]

    drifted = NODES[100:137]
    for name in drifted:  # someone removed our label on 37 nodes
        kube.modify_node(name, lambda node: node["metadata"]["labels"].pop("workload"))
    result, counts = run("k8s_node_labels", labels)
    assert counts == (1, 0, 37) and result["changed_nodes"] == drifted

    assert run("k8s_node_taints", taints)[1] == (1, 0, 1000)
    assert run("k8s_node_taints", taints)[1] == (1, 0, 0)
    assert kube.node("api-0999")["spec"]["taints"][:2] == [
        CONTROL_PLANE, {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
