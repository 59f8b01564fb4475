"""The launch-template fidelity fix: the template's own tags tag it, and stay out of its data (as in AWS)."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()


@pytest.fixture
def ec2(moto_in_process):  # pylint: disable=unused-argument
    return boto3.client("ec2", region_name="ap-northeast-2")


def test_template_tags_tag_the_template_and_not_its_data(ec2):
    instance_tags = {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "node"}]}
    ec2.create_launch_template(LaunchTemplateName="node-lt", LaunchTemplateData={"TagSpecifications": [instance_tags]},
                               TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "msa:platform", "Value": "p"}]}])
    data = ec2.describe_launch_template_versions(LaunchTemplateName="node-lt")["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["TagSpecifications"] == [instance_tags]
    template = ec2.describe_launch_templates(LaunchTemplateNames=["node-lt"])["LaunchTemplates"][0]
    assert template["Tags"] == [{"Key": "msa:platform", "Value": "p"}]


def test_data_without_tag_specifications_stays_without(ec2):
    ec2.create_launch_template(LaunchTemplateName="node-lt", LaunchTemplateData={"EbsOptimized": True},
                               TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "a", "Value": "b"}]}])
    data = ec2.describe_launch_template_versions(LaunchTemplateName="node-lt")["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert "TagSpecifications" not in data
