"""aws_instances' request and wait: one RunInstances carries the whole node; the wait polls every id in one call."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws.instances import run_request, wait_running

NODE = {"name": "eco-auth-1", "image_id": "ami-1", "root_device_name": "/dev/sda1", "instance_type": "t3.small",
        "subnet_id": "subnet-1", "security_group_ids": ["sg-1", "sg-2"], "key_name": "eco", "iam_instance_profile": "eco-node",
        "hop_limit": 2, "source_dest_check": False, "volume_size": 30, "volume_type": "gp3", "tags": {"msa:pool": "auth"}}


def test_run_request_carries_tags_profile_imds_and_root_volume():
    request = run_request(NODE, "tok")
    assert request["ClientToken"] == "tok" and request["MinCount"] == request["MaxCount"] == 1
    assert request["IamInstanceProfile"] == {"Name": "eco-node"} and request["KeyName"] == "eco"
    assert request["MetadataOptions"] == {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    assert request["BlockDeviceMappings"] == [{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 30, "VolumeType": "gp3", "Encrypted": True,
                                                                                  "DeleteOnTermination": True}}]
    tags = [{"Key": "Name", "Value": "eco-auth-1"}, {"Key": "msa:pool", "Value": "auth"}]
    assert request["TagSpecifications"] == [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}]
    assert "KmsKeyId" not in request["BlockDeviceMappings"][0]["Ebs"]
    assert run_request(dict(NODE, kms_key_id="k"), "t")["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"] == "k"


def _states(*rounds):
    calls = []

    def describe(ids):
        calls.append(list(ids))
        states = rounds[min(len(calls), len(rounds)) - 1]
        return [{"InstanceId": i, "State": {"Name": states[i]}} for i in ids]
    return describe, calls


def test_wait_polls_all_ids_in_one_call_per_round():
    describe, calls = _states({"i-1": "pending", "i-2": "pending"}, {"i-1": "running", "i-2": "pending"},
                              {"i-1": "running", "i-2": "running"})
    found = wait_running(describe, ["i-1", "i-2"], timeout=60, sleep=lambda _s: None)
    assert len(found) == 2 and calls == [["i-1", "i-2"]] * 3


def test_wait_fails_naming_an_instance_that_ended():
    describe, _calls = _states({"i-1": "terminated", "i-2": "running"})
    with pytest.raises(RuntimeError, match=r"i-1 .terminated."):
        wait_running(describe, ["i-1", "i-2"], timeout=60, sleep=lambda _s: None)


def test_wait_times_out_naming_the_pending_ones():
    describe, _calls = _states({"i-1": "pending"})
    with pytest.raises(TimeoutError, match="i-1"):
        wait_running(describe, ["i-1"], timeout=0, sleep=lambda _s: None)
