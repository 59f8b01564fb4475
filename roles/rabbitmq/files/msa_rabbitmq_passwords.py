"""msa_rabbitmq_passwords.py: make RabbitMQ users exist with the given passwords; run on a cluster node
as root. Installed by the msa.platform.rabbitmq role.

Reads [{"name": ..., "password": ...}, ...] as JSON on stdin and hands each password to rabbitmqctl
on ITS stdin (rabbitmqctl reads a password it is not given as an argument from standard input), so
no password is ever on a command line (ps, /proc/<pid>/cmdline) or in the output. A user missing
is added; an existing user whose password does not authenticate gets the new one. Prints
{"changed": [names]} (names only). argv: [--check] (report, change nothing).
"""
import json
import subprocess
import sys


def ctl(*args, secret=None):
    """rabbitmqctl with ``secret`` on stdin; returns the completed process (never raises on rc)."""
    return subprocess.run(["rabbitmqctl", "-q", *args], input=(secret or "") + "\n", capture_output=True, text=True,
                          check=False)


def main():
    check = "--check" in sys.argv[1:]
    users = json.load(sys.stdin)
    listed = ctl("list_users", "--formatter", "json")
    if listed.returncode != 0:
        sys.exit(f"rabbitmqctl list_users failed: {listed.stderr.strip()}")
    existing = {user["user"] for user in json.loads(listed.stdout)}
    changed = []
    for user in users:
        name, password = user["name"], user["password"]
        if name in existing:
            if ctl("authenticate_user", name, secret=password).returncode == 0:
                continue
            action = ("change_password", name)
        else:
            action = ("add_user", name)
        changed.append(name)
        if not check:
            done = ctl(*action, secret=password)
            if done.returncode != 0:
                sys.exit(f"rabbitmqctl {action[0]} {name} failed: {done.stderr.strip()}")
    print(json.dumps({"changed": changed}))


main()
