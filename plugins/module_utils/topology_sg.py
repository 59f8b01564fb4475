# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security-group intent: least-privilege ingress per role, as plain data (docs/plan.md lists it).

Only the load balancer is open to the world (80/443). SSH comes from admin_cidrs, or only from the
bastion when there is one (and from the VPN client range with access: vpn). Kubernetes ports are open only between cluster groups, service ports only
from the app group (nodes that run application pods) and the service's own nodes, exporter ports only
from the monitoring group. Egress is left to the AWS default (all outbound); the data tier's lack of
internet comes from its route table.
"""
from __future__ import annotations

WORLD = "0.0.0.0/0"
EXPORTER_PORTS = {"node": 9100, "postgresql": 9187, "redis": 9121, "rabbitmq": 15692, "kafka": 9308}
# Fixed ports a service's own nodes listen on besides its configurable ones ((low, high) is a range).
RABBITMQ_EPMD_PORT = 4369
RABBITMQ_DIST_PORT = 25672
RABBITMQ_CLI_PORTS = (35672, 35682)
ALERTMANAGER_CLUSTER_PORT = 9094
JENKINS_PORT = 8080
FIXED_PORTS = {
    "rabbitmq": {RABBITMQ_EPMD_PORT: "epmd", RABBITMQ_DIST_PORT: "Erlang distribution", RABBITMQ_CLI_PORTS: "RabbitMQ CLI tools"},
    "monitoring": {ALERTMANAGER_CLUSTER_PORT: "Alertmanager cluster"},
}


def _rule(proto, ports, source, description, from_cidr=False):
    low, high = ports if isinstance(ports, tuple) else (ports, ports)
    rule = {"proto": proto, "from_port": low, "to_port": high}
    rule["cidr" if from_cidr else "source_group"] = source
    rule["description"] = description
    return rule


class _Builder:
    def __init__(self, name: str, admin_cidrs: list, bastion: bool, monitoring: bool, access: str = "direct", vpn_cidr: str = ""):
        self.access = access
        self.vpn_cidr = vpn_cidr
        self.name = name
        self.admin_cidrs = admin_cidrs
        self.bastion = bastion
        self.monitoring = monitoring
        self.groups = []

    def sg(self, what: str) -> str:
        return f"{self.name}-{what}"

    def add(self, what: str, description: str, rules: list) -> None:
        self.groups.append({"name": self.sg(what), "description": description, "rules": rules})

    def operator(self, port: int, what: str) -> list:
        """Operator access (SSH, UIs): from the bastion if there is one, and with access: vpn from the VPN client range
        too (the VPC routes it to the server, which forwards without NAT: each client arrives from its own address);
        none with SSM (sessions and port forwarding need no ingress); else from admin_cidrs."""
        if self.access == "ssm":
            return []
        if self.bastion:
            rules = [_rule("tcp", port, self.sg("bastion"), f"{what} from the bastion")]
            if self.access == "vpn" and self.vpn_cidr:
                rules.append(_rule("tcp", port, self.vpn_cidr, f"{what} from VPN clients", from_cidr=True))
            return rules
        return [_rule("tcp", port, cidr, f"{what} from admin network", from_cidr=True) for cidr in self.admin_cidrs]

    def exporter(self, role: str) -> list:
        if not self.monitoring:
            return []
        return [_rule("tcp", EXPORTER_PORTS[role], self.sg("monitoring"), f"{role} exporter scraped by Prometheus")]

    def clients(self, port, own: str, what: str, app: bool) -> list:
        rules = [_rule("tcp", port, self.sg("app"), f"{what} from application nodes")] if app else []
        return [*rules, _rule("tcp", port, self.sg(own), f"{what} between {own} nodes")]


def calico_rules(encapsulation: str, cluster: str, pod_cidr: str) -> list:
    """Ingress the Calico encapsulation needs between cluster nodes (tcp 5473: the Tigera operator always runs Typha).

    VXLAN / IPIP encapsulate all pod traffic (udp 4789 / IP protocol 4; IPIP routes are shared over BGP, tcp 179).
    *CrossSubnet and None route pod traffic natively inside a subnet: packets from pod addresses, and from nodes to
    pods, on any port, so all traffic from the cluster group and the pod CIDR (instances with the source/destination
    check on cannot send from pod addresses, so only cluster nodes can).
    """
    rules = [_rule("tcp", 5473, cluster, "Calico Typha")]
    if encapsulation in ("VXLAN", "VXLANCrossSubnet"):
        rules.append(_rule("udp", 4789, cluster, "Calico VXLAN"))
    if encapsulation in ("IPIP", "IPIPCrossSubnet"):
        rules.append(_rule("4", (-1, -1), cluster, "Calico IP-in-IP"))
    if encapsulation in ("IPIP", "IPIPCrossSubnet", "None"):
        rules.append(_rule("tcp", 179, cluster, "Calico BGP"))
    if native_routing(encapsulation):
        rules = [_rule("-1", (-1, -1), cluster, "node and pod traffic Calico routes natively inside a subnet"),
                 _rule("-1", (-1, -1), pod_cidr, "pod addresses Calico routes natively inside a subnet", from_cidr=True)]
    return rules


def native_routing(encapsulation: str) -> bool:
    """Whether Calico sends pod traffic unencapsulated (so the nodes need the source/destination check off)."""
    return encapsulation in ("VXLANCrossSubnet", "IPIPCrossSubnet", "None")


def security_groups(name: str, mode: str, roles: set, network: dict, services: dict, kubernetes: dict | None = None,
                    api_lb_cidrs: list | None = None):
    """(list of security groups, {role: [group names its pools carry]}).

    kubernetes: the plan's kubernetes section (kubeadm: calico encapsulation, pod CIDR, API endpoint and port);
    api_lb_cidrs: subnets of the API load balancer (control_plane_endpoint nlb).
    """
    kubernetes = kubernetes or {}
    b = _Builder(name, network["admin_cidrs"], network["bastion"], "monitoring" in roles, network.get("access", "direct"),
                 (network.get("vpn") or {}).get("client_cidr", ""))
    k8s = mode != "none"
    app = k8s and bool(roles & {"worker", "api"})
    if k8s:
        b.add("lb", "Load balancers: the only world-open group", [
            _rule("tcp", 80, WORLD, "HTTP from anywhere", from_cidr=True),
            _rule("tcp", 443, WORLD, "HTTPS from anywhere", from_cidr=True)])
    if b.bastion:
        vpn = network.get("vpn") or {}
        rules = [_rule("tcp", 22, cidr, "SSH from admin network", from_cidr=True) for cidr in b.admin_cidrs]
        if b.access == "vpn":
            rules += [_rule("udp", vpn.get("port", 1194), cidr, "OpenVPN from admin network", from_cidr=True) for cidr in b.admin_cidrs]
        b.add("bastion", "Bastion host" + (" and OpenVPN server" if b.access == "vpn" else ""), rules + b.exporter("node"))
    b.add("node", "Every node: SSH and node exporter", b.operator(22, "SSH") + b.exporter("node"))
    if k8s:
        cluster = b.sg("k8s")
        nodeport = _rule("tcp", (30000, 32767), b.sg("lb"), "NodePort services behind the load balancer")
        if mode == "eks":
            rules = [_rule("-1", (-1, -1), cluster, "node to node and pod traffic (VPC CNI)"), nodeport]
        else:
            calico = kubernetes.get("calico") or {}
            rules = calico_rules(calico.get("encapsulation", "VXLANCrossSubnet"), cluster, kubernetes.get("pod_cidr", "192.168.0.0/16"))
            if not native_routing(calico.get("encapsulation", "VXLANCrossSubnet")):
                rules = [_rule("tcp", 10250, cluster, "kubelet API"), *rules,
                         _rule("tcp", (30000, 32767), cluster, "NodePort services inside the cluster")]
            rules += [nodeport, _rule("tcp", 10256, b.sg("lb"), "kube-proxy health checks from the load balancer")]
        b.add("k8s", "Kubernetes cluster nodes", rules)
        if mode == "kubeadm" and "control_plane" in roles:
            plane = b.sg("control-plane")
            port = kubernetes.get("api_port", 6443)
            rules = [_rule("tcp", port, cluster, "Kubernetes API from cluster nodes")]
            if kubernetes.get("control_plane_endpoint") == "nlb":
                # The NLB forwards with its own addresses (client IP preservation off: a control-plane node reaching
                # the API through the NLB may land on itself) and health-checks from them, inside its subnets.
                rules += [_rule("tcp", port, cidr, "Kubernetes API through the internal NLB and its health checks", from_cidr=True)
                          for cidr in api_lb_cidrs or []]
            b.add("control-plane", "Kubernetes control plane", [*rules, _rule("tcp", (2379, 2380), plane, "etcd between control-plane nodes")])
        if app:
            b.add("app", "Nodes that run application pods: the clients data services trust", [])
    if "postgresql" in roles:
        pg = services["postgresql"]
        b.add("postgresql", "PostgreSQL nodes", b.clients(pg["port"], "postgresql", "PostgreSQL", app) + b.exporter("postgresql"))
    if "redis" in roles:
        redis = services["redis"]
        rules = b.clients(redis["port"], "redis", "Redis", app)
        if redis["sentinel"]["enabled"]:
            rules += b.clients(redis["sentinel"]["port"], "redis", "Redis Sentinel", app)
        b.add("redis", "Redis nodes", rules + b.exporter("redis"))
    if "rabbitmq" in roles:
        mq = services["rabbitmq"]
        rules = b.clients(mq["port"], "rabbitmq", "AMQP", app)
        rules += [_rule("tcp", RABBITMQ_EPMD_PORT, b.sg("rabbitmq"), "epmd between RabbitMQ nodes"),
                  _rule("tcp", RABBITMQ_DIST_PORT, b.sg("rabbitmq"), "Erlang distribution between RabbitMQ nodes"),
                  _rule("tcp", RABBITMQ_CLI_PORTS, b.sg("rabbitmq"), "RabbitMQ CLI tools between nodes")]
        if mq["management"]:
            rules += b.operator(15672, "RabbitMQ management UI")
        b.add("rabbitmq", "RabbitMQ nodes", rules + b.exporter("rabbitmq"))
    if "kafka" in roles:
        kafka = services["kafka"]
        rules = b.clients(kafka["port"], "kafka", "Kafka", app)
        rules.append(_rule("tcp", kafka["controller_port"], b.sg("kafka"), "KRaft controller quorum"))
        b.add("kafka", "Kafka nodes", rules + b.exporter("kafka"))
    if "monitoring" in roles:
        mon = services["monitoring"]
        rules = b.operator(mon["port"], "Prometheus UI")
        if mon["grafana"]:
            rules += b.operator(mon["grafana_port"], "Grafana UI")
        b.add("monitoring", "Monitoring: Prometheus, Alertmanager, Grafana", rules)
    # Managed data services (RDS, ElastiCache) have no pool: only application nodes and the monitoring node
    # (its postgres_exporter / redis_exporter) reach them.
    for section, what in (("postgresql", "RDS PostgreSQL"), ("redis", "ElastiCache")):
        managed = services.get(section) or {}
        if managed.get("managed") and section not in roles:
            rules = [_rule("tcp", managed["port"], b.sg("app"), f"{what} from application nodes")] if app else []
            if b.monitoring:
                rules.append(_rule("tcp", managed["port"], b.sg("monitoring"), f"{what} from the monitoring node's exporter"))
            b.add(section, f"{what}: application nodes and monitoring only", rules)
    if "ci" in roles:
        b.add("ci", "Jenkins CI node: its UI from operators only", b.operator(JENKINS_PORT, "Jenkins UI"))

    per_role = {}
    for role in roles:
        if role == "bastion":
            per_role[role] = [b.sg("bastion")]
        elif role == "control_plane":
            per_role[role] = [b.sg("node"), b.sg("k8s")] + ([b.sg("control-plane")] if mode == "kubeadm" else [])
        elif role in ("worker", "api"):
            per_role[role] = [b.sg("node"), b.sg("k8s"), b.sg("app")]
        else:
            per_role[role] = [b.sg("node"), b.sg(role)]
    return b.groups, per_role
