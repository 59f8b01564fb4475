"""IAM extension: client IDs of an OpenID Connect provider.

moto 5.2.5 has no AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider (the server
answers "not yet implemented"). As in IAM: adding a client ID the provider already has, or removing one it
does not have, succeeds and changes nothing; an unknown provider ARN is NoSuchEntity (404).
"""
from __future__ import annotations

from moto.core.responses import EmptyResult
from moto.iam.responses import IamResponse


def add_client_id_to_open_id_connect_provider(self) -> EmptyResult:
    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)
    return EmptyResult()


def remove_client_id_from_open_id_connect_provider(self) -> EmptyResult:
    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    if client_id in provider.client_id_list:
        provider.client_id_list.remove(client_id)
    return EmptyResult()


def apply() -> None:
    IamResponse.add_client_id_to_open_id_connect_provider = add_client_id_to_open_id_connect_provider
    IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id_from_open_id_connect_provider
