"""EC2 fidelity fix: deleting a subnet removes its route table association.

In EC2 a subnet's explicit route table association goes with the subnet: afterwards the route table lists no
association for it and can be deleted. moto 5.2 keeps the association, so DeleteRouteTable answers
DependencyViolation until a DisassociateRouteTable that real EC2 would refuse (the association no longer exists).
"""
from __future__ import annotations

from moto.ec2.models import subnets

_original_delete = subnets.SubnetBackend.delete_subnet


def _delete_subnet(self, subnet_id):
    subnet = _original_delete(self, subnet_id)   # refuses an unknown subnet first
    for table in getattr(self, "route_tables", {}).values():
        for association_id, target in list(table._associations.items()):  # pylint: disable=protected-access
            if target == subnet_id:
                del table._associations[association_id]  # pylint: disable=protected-access
    return subnet


def apply() -> None:
    if subnets.SubnetBackend.delete_subnet is not _delete_subnet:
        subnets.SubnetBackend.delete_subnet = _delete_subnet
