"""pylti1p3's tool configuration, read from the database instead of a JSON file.

Like django-lti's ``DjangoToolConfig``: one issuer may have many client ids, each with
its deployments, each a tenant. Launch validation in :mod:`.launch` uses it to find
registrations, so pylti1p3's message and service objects see the same configuration.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from records import SecretBox, Tenant

from . import keys, registry


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations and deployments from the ``tenants`` and ``deployments`` tables."""

    def __init__(self, session: Session, box: SecretBox) -> None:
        self.session = session
        self.box = box
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_tenant(
        self, iss: str, client_id: str | None, deployment_id: str | None = None
    ) -> Tenant | None:
        """The one tenant :func:`registry.resolve_tenant` finds, or ``None``."""
        tenants = registry.resolve_tenant(self.session, iss, client_id, deployment_id)
        return tenants[0] if len(tenants) == 1 else None

    def registration_for(self, tenant: Tenant) -> Registration:
        """A pylti1p3 registration carrying the tenant's URLs and the tool's active key."""
        signing = keys.signing_key(self.session, self.box)
        registration = Registration()
        registration.set_issuer(tenant.issuer or "")
        registration.set_client_id(tenant.client_id or "")
        registration.set_auth_login_url(tenant.auth_login_url or "")
        registration.set_auth_token_url(tenant.auth_token_url or "")
        registration.set_auth_audience(tenant.auth_audience or "")
        registration.set_key_set_url(tenant.key_set_url)
        registration.set_key_set(tenant.key_set)
        registration.set_tool_private_key(signing.private_pem)
        return registration

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        tenant = self.find_tenant(iss, None)
        if tenant is None:
            raise LookupError(f"no single registration for issuer {iss!r}")
        return self.registration_for(tenant)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Registration:
        tenant = self.find_tenant(iss, client_id)
        if tenant is None:
            raise LookupError(f"no registration for issuer {iss!r} and client id {client_id!r}")
        return self.registration_for(tenant)

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        tenant = self.find_tenant(iss, None, deployment_id)
        return self._deployment(tenant, deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        return self._deployment(self.find_tenant(iss, client_id), deployment_id)

    def _deployment(self, tenant: Tenant | None, deployment_id: str) -> LtiDeployment | None:
        if tenant is None or not registry.has_deployment(self.session, tenant.id, deployment_id):
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        """The tool's published key set (the same for every registration)."""
        return keys.public_key_set(self.session, self.box)
