"""Create RabbitMQ vhosts with a default queue type; run on a cluster node, as root.

argv: <default queue type> <JSON list of vhosts> [check]. Prints {"changed": [...], "kept": [...]}:
vhosts created (or recreated because they were empty and had another default queue type) and
vhosts that keep another default queue type because they hold queues. With "check", nothing
is changed and the output says what would be.
"""
import json
import subprocess
import sys


def ctl(*args):
    out = subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True).stdout
    return out


def main():
    queue_type, wanted, check = sys.argv[1], json.loads(sys.argv[2]), "check" in sys.argv[3:]
    current = {v["name"]: v.get("default_queue_type") for v in json.loads(ctl("list_vhosts", "name", "default_queue_type", "--formatter", "json"))}
    changed, kept = [], []
    for vhost in wanted:
        if current.get(vhost, queue_type) == queue_type and vhost in current:
            continue
        if vhost in current:
            if json.loads(ctl("list_queues", "-p", vhost, "name", "--formatter", "json")):
                kept.append(vhost)
                continue
            if not check:
                ctl("delete_vhost", vhost)
        if not check:
            ctl("add_vhost", vhost, "--default-queue-type", queue_type)
        changed.append(vhost)
    print(json.dumps({"changed": changed, "kept": kept}))


main()
