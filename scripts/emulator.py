"""The local AWS emulator: a moto server on 127.0.0.1, started and stopped by PID.

    scripts/emulator.py start [--port 5123]   # idempotent; waits until it answers
    scripts/emulator.py stop  [--port 5123]
    scripts/emulator.py reset [--port 5123]   # forget every resource
    scripts/emulator.py env   [--port 5123]   # shell exports that point AWS clients at it

Only loopback is ever used: nothing started here can reach or stand in for a real AWS endpoint.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "emulator"
HOST = "127.0.0.1"
DEFAULT_PORT = int(os.environ.get("MSA_EMULATOR_PORT", "5123"))

# Dummy credentials: the emulator accepts anything, and real ones must never be used by tests.
CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-northeast-2",
    "AWS_REGION": "ap-northeast-2",
}


def endpoint(port: int = DEFAULT_PORT) -> str:
    return f"http://{HOST}:{port}"


def client_env(port: int = DEFAULT_PORT) -> dict[str, str]:
    """Environment that points boto3 and the amazon.aws modules at the emulator."""
    return {**CLIENT_ENV, "AWS_ENDPOINT_URL": endpoint(port)}


def _pid_file(port: int) -> Path:
    return STATE / f"moto-{port}.pid"


def _answers(port: int) -> bool:
    """moto answers on the port. Its config, not data.json: data.json dumps every resource (the managed IAM
    policies alone are hundreds), which took 28 s after a make demo on the loaded machine, so a running
    emulator looked dead and `start` refused the port as taken by someone else."""
    try:
        with urllib.request.urlopen(f"{endpoint(port)}/moto-api/config", timeout=5) as resp:
            return resp.status in (200, 201)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def _running_pid(port: int) -> int | None:
    try:
        pid = int(_pid_file(port).read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def start(port: int = DEFAULT_PORT, timeout: float = 30.0) -> str:
    """Start moto_server on loopback unless ours already runs there; return its endpoint."""
    if _running_pid(port) and _answers(port):
        return endpoint(port)
    if _port_taken(port):
        raise SystemExit(
            f"emulator: {HOST}:{port} is taken by a process this harness did not start; "
            f"choose another port with --port or MSA_EMULATOR_PORT"
        )
    STATE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with open(STATE / f"moto-{port}.log", "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, str(Path(__file__).with_name("moto_server.py")), "-H", HOST, "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    _pid_file(port).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"emulator: moto_server exited with {proc.returncode}; see {log.name}")
        if _answers(port):
            return endpoint(port)
        time.sleep(0.2)
    stop(port)
    raise SystemExit(f"emulator: moto_server did not answer on {endpoint(port)} within {timeout:.0f}s")


def stop(port: int = DEFAULT_PORT) -> None:
    pid = _running_pid(port)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        for _dummy in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    _pid_file(port).unlink(missing_ok=True)


def reset(port: int = DEFAULT_PORT) -> None:
    req = urllib.request.Request(f"{endpoint(port)}/moto-api/reset", method="POST")
    # A reset drops every backend the run touched: with many (EKS, S3, RDS, ...) on a loaded 2-core
    # machine it has taken over 10 s, so allow a minute.
    with urllib.request.urlopen(req, timeout=60):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "reset", "env", "status"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    if args.command == "start":
        print(start(args.port))
    elif args.command == "stop":
        stop(args.port)
    elif args.command == "reset":
        reset(args.port)
    elif args.command == "env":
        for key, value in client_env(args.port).items():
            print(f"export {key}={value}")
    else:
        running = bool(_running_pid(args.port)) and _answers(args.port)
        print("running" if running else "stopped")
        return 0 if running else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
