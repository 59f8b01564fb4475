"""Molecule stand-in for danielqsj's kafka_exporter binary (its release cannot be fetched here).

Like the real one it expands "@file" arguments (one a line, "#" lines skipped, as kingpin does),
refuses a flag it does not know, exits when no --kafka.server answers a Kafka Metadata request,
and serves /metrics on --web.listen-address with kafka_brokers and kafka_broker_info from a
fresh Metadata request per scrape. It logs its parsed flags (never the SASL password) to stdout.
It is not kafka_exporter: no topic, partition or consumer-group metrics, and no SASL handshake.
"""
import http.server
import socket
import struct
import sys

KNOWN = {"web.listen-address", "kafka.server", "kafka.version", "sasl.enabled", "sasl.mechanism",
         "sasl.username", "sasl.password", "topic.filter", "topic.exclude", "group.filter", "group.exclude"}


def expand(args):
    out = []
    for arg in args:
        if arg.startswith("@"):
            with open(arg[1:], encoding="utf-8") as handle:
                out += expand([line.rstrip("\n") for line in handle if not line.startswith("#")])
        else:
            out.append(arg)
    return out


def parse(args):
    flags = {"web.listen-address": ":9308", "kafka.server": []}
    for arg in args:
        if not arg.startswith("--"):
            sys.exit(f"kafka_exporter: error: unexpected {arg!r}")
        name, value = [*arg[2:].split("=", 1), "true"][:2]
        if name not in KNOWN:
            sys.exit(f"kafka_exporter: error: unknown long flag '--{name}'")
        if name == "kafka.server":
            flags[name].append(value)
        else:
            flags[name] = value
    return flags


def metadata(server):
    """Broker (id, host:port) list from a Metadata v4 request for no topic."""
    host, port = server.rsplit(":", 1)
    request = struct.pack(">hhih", 3, 4, 1, 14) + b"kafka_exporter" + struct.pack(">ib", 0, 0)
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", conn.recv(4, socket.MSG_WAITALL))[0]
        data = conn.recv(size, socket.MSG_WAITALL)
    count = struct.unpack_from(">i", data, 8)[0]
    offset, brokers = 12, []
    while len(brokers) < count:
        node, length = struct.unpack_from(">ih", data, offset)
        address = data[offset + 6:offset + 6 + length].decode()
        offset += 6 + length
        broker_port, rack = struct.unpack_from(">ih", data, offset)
        offset += 6 + max(rack, 0)
        brokers.append((node, f"{address}:{broker_port}"))
    return brokers


def cluster(servers):
    for server in servers:
        try:
            return metadata(server)
        except OSError:
            continue
    return None


def main():
    flags = parse(expand(sys.argv[1:]))
    shown = {k: ("<hidden>" if k == "sasl.password" else v) for k, v in sorted(flags.items())}
    print(f"kafka_exporter stand-in flags: {shown}", flush=True)
    if cluster(flags["kafka.server"]) is None:
        sys.exit("Error Init Kafka Client: kafka: client has run out of available brokers to talk to")

    class Metrics(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            brokers = cluster(flags["kafka.server"]) or []
            lines = ["# TYPE kafka_brokers gauge", f"kafka_brokers {len(brokers)}"]
            lines += [f'kafka_broker_info{{address="{a}",id="{i}"}} 1' for i, a in brokers]
            body = ("\n".join(lines) + "\n").encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

    host, port = flags["web.listen-address"].rsplit(":", 1)
    http.server.HTTPServer((host.strip("[]"), int(port)), Metrics).serve_forever()


main()
