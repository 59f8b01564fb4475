"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the AWS emulator.

A seeded share of EC2 calls is answered by the proxy itself, never reaching the emulator, with what
EC2 sends when it sheds load: HTTP 503 with an EC2 XML error, `RequestLimitExceeded` (throttling) or
`Unavailable`. Every other request is forwarded unchanged. Clients must retry to converge; since a
faulted call never reached the emulator, retrying it cannot create a duplicate, so any duplicate the
tests find is the client's doing (a re-run that did not look up what exists).

    python tests/fakes/aws_fault_proxy.py --upstream http://127.0.0.1:5123 --rate 0.2 --seed 7 --port 5199

In tests: `with FaultProxy(upstream, rate=0.2, seed=7) as proxy:` then point AWS_ENDPOINT_URL at
proxy.url; proxy.stats counts forwarded and faulted requests per EC2 action, and
proxy.stats["calls"] every request of any service as "service:Operation" (with rate=0 it is a plain
counting proxy: benchmarks/eks_calls.py).
"""
from __future__ import annotations

import argparse
import functools
import http.client
import random
import re
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.exceptions
import botocore.session

FAULTS = (
    ("RequestLimitExceeded", "Request limit exceeded."),
    ("Unavailable", "The server is overloaded and can't handle the request."),
)
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


def ec2_error(code: str, message: str, request_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>").encode()


def ec2_action(headers, body: bytes) -> str:
    """The EC2 Query action of a request, or '' when it is not an EC2 call (SigV4 scope names the service)."""
    if "/ec2/aws4_request" not in headers.get("Authorization", ""):
        return ""
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return fields.get("Action", ["?"])[0]


_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


@functools.cache
def _rest_routes(service: str) -> list:
    """(method, path regex, literal length, operation) of a REST service's operations, from botocore's model."""
    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        parts = re.split(r"({[^}]+})", uri)
        pattern = "".join((".+" if part.endswith("+}") else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts)
        routes.append((http["method"], re.compile(f"^{pattern}$"), len(re.sub(r"{[^}]+}", "", uri)), name))
    return routes


def api_call(method: str, path: str, headers, body: bytes) -> str:
    """'service:Operation' of an AWS request: the SigV4 scope names the service; Query APIs (EC2, IAM, STS)
    carry Action, JSON APIs X-Amz-Target, REST APIs (EKS) are matched against botocore's model."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    service = match.group(1) if match else "unsigned"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    route = urllib.parse.urlsplit(path).path
    try:
        candidates = [(length, name) for verb, regex, length, name in _rest_routes(service) if verb == method and regex.match(route)]
    except botocore.exceptions.UnknownServiceError:
        candidates = []
    return f"{service}:{max(candidates)[1] if candidates else method + ' ' + route}"


class FaultProxy:
    """Threaded proxy; a context manager that starts and stops it."""

    def __init__(self, upstream: str, rate: float = 0.2, seed: int = 0, port: int = 0):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname, parsed.port or 80)
        self.rate = rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.stats: dict[str, Counter] = {"forwarded": Counter(), "faulted": Counter(), "calls": Counter()}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _fault(self, action: str):
        with self.lock:
            if not action or self.random.random() >= self.rate:
                self.stats["forwarded"][action or "other"] += 1
                return None
            self.stats["faulted"][action] += 1
            return FAULTS[self.random.randrange(len(FAULTS))], f"fault-{sum(self.stats['faulted'].values())}"

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.stats["calls"][api_call(self.command, self.path, self.headers, body)] += 1
                fault = proxy._fault(ec2_action(self.headers, body))
                if fault:
                    (code, message), request_id = fault
                    payload = ec2_error(code, message, request_id)
                    self.send_response(503)
                    self.send_header("Content-Type", "text/xml;charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        return Handler

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", default="http://127.0.0.1:5123")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=5199)
    args = parser.parse_args()
    with FaultProxy(args.upstream, args.rate, args.seed, args.port) as proxy:
        print(proxy.url, flush=True)
        try:
            proxy.thread.join()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
