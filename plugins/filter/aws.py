# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the AWS roles; the logic is in module_utils/aws/.

- ec2_key_fingerprint(public_key): the fingerprint EC2 reports for that OpenSSH public key once imported ('' if unsupported)
- ecr_push_policy(repositories, region): the CI node role's policy, ECR login and push on exactly those repositories ({} if none)
"""
from __future__ import annotations

from ansible_collections.msa.platform.plugins.module_utils.aws.iam_roles import ecr_push_policy
from ansible_collections.msa.platform.plugins.module_utils.aws.keys import imported_fingerprint


def _ecr_push_policy(repositories, region):
    return ecr_push_policy(str(region), [str(r) for r in repositories or []])


class FilterModule:
    def filters(self):
        return {"ec2_key_fingerprint": imported_fingerprint, "ecr_push_policy": _ecr_push_policy}
