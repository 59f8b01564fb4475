"""Stand-in for crictl (cri-tools), shipped in the test's cri-tools .deb: the real crictl is not
obtainable here. It speaks real CRI gRPC (runtime.v1) to containerd over its unix socket, so what it
prints comes from the real containerd: `version` (RuntimeService/Version) and `info`
(RuntimeService/Status, verbose: conditions plus containerd's effective CRI config).

Arguments are checked strictly: [--runtime-endpoint|-r unix:///path] [--config FILE] (version|info).
Without --runtime-endpoint it reads runtime-endpoint from /etc/crictl.yaml, as crictl does; with
neither it fails (real crictl would guess among default sockets, the role must not rely on that).
"""
import json
import sys

import grpc


def fail(msg, code=1):
    print(f"crictl (stand-in): {msg}", file=sys.stderr)
    sys.exit(code)


def varint(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """Protobuf wire format -> [(field number, value)]; length-delimited values stay bytes."""
    pos, out = 0, []
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 2:
            size, pos = varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        else:
            fail(f"unexpected wire type {wire} in the runtime's answer")
        out.append((number, value))
    return out


def parse_args(argv):
    endpoint, config, command = None, "/etc/crictl.yaml", None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--runtime-endpoint", "-r"):
            endpoint = args.pop(0) if args else fail(f"{arg} needs a value", 2)
        elif arg.startswith("--runtime-endpoint="):
            endpoint = arg.split("=", 1)[1]
        elif arg == "--config":
            config = args.pop(0) if args else fail("--config needs a value", 2)
        elif arg in ("version", "info") and command is None:
            command = arg
        else:
            fail(f"unsupported argument {arg!r} (the stand-in knows: [-r URL] [--config FILE] version|info)", 2)
    if command is None:
        fail("no command (version|info)", 2)
    if endpoint is None:
        try:
            with open(config, encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("runtime-endpoint:"):
                        endpoint = line.split(":", 1)[1].strip()
        except OSError:
            pass
    if not endpoint or not endpoint.startswith("unix:///"):
        fail(f"no unix:// runtime endpoint (got {endpoint!r}; set runtime-endpoint in {config})")
    return endpoint, command


def call(channel, method, request):
    stub = channel.unary_unary(f"/runtime.v1.RuntimeService/{method}",
                               request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw)
    try:
        return stub(request, timeout=10)
    except grpc.RpcError as err:
        fail(f"{method}: {err.code().name}: {err.details()}")


def main():
    endpoint, command = parse_args(sys.argv[1:])
    with grpc.insecure_channel(endpoint) as channel:
        if command == "version":
            answer = {n: v.decode() for n, v in fields(call(channel, "Version", b""))}
            print(f"Version:  {answer.get(1, '')}\nRuntimeName:  {answer.get(2, '')}\n"
                  f"RuntimeVersion:  {answer.get(3, '')}\nRuntimeApiVersion:  {answer.get(4, '')}")
            return
        status, info = {"conditions": []}, {}
        for number, value in fields(call(channel, "Status", b"\x08\x01")):  # verbose: true
            if number == 1:
                for cond_number, cond in fields(value):
                    if cond_number == 1:
                        parts = dict(fields(cond))
                        status["conditions"].append({
                            "type": parts.get(1, b"").decode(), "status": bool(parts.get(2, 0)),
                            "reason": parts.get(3, b"").decode(), "message": parts.get(4, b"").decode()})
            elif number == 2:
                entry = dict(fields(value))
                key, raw = entry.get(1, b"").decode(), entry.get(2, b"").decode()
                try:
                    info[key] = json.loads(raw)
                except ValueError:
                    info[key] = raw
        print(json.dumps({"status": status, **info}, indent=2, sort_keys=True))


main()
