"""Member portals: an association's single sign-on (or email link) as a way into Tandem."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .mixins import TenantOwned, Timestamped, tenant_key

PORTAL_KINDS = ("oidc", "email_link")


class Portal(TenantOwned, Timestamped, Base):
    """One sign-in source of a tenant, reached at ``/portal/NAME/login``.

    ``kind`` is ``oidc`` (the portal is an OpenID Connect provider: ``issuer``,
    ``client_id`` and the encrypted client secret are set, ``provider`` holds the
    endpoints its discovery document named) or ``email_link`` (no single sign-on: members
    ask for a one-time link by email). ``name`` is unique across tenants because the URL
    carries no tenant. ``origins`` may frame Tandem's pages; ``coordinator_claim`` and
    ``coordinator_values`` say which signed-in members are coordinators.
    """

    __tablename__ = "portals"
    __table_args__ = (
        tenant_key("portals"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in PORTAL_KINDS) + ")", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="oidc")
    issuer: Mapped[str | None] = mapped_column(String(500))
    client_id: Mapped[str | None] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[dict[str, Any]] = mapped_column(default=dict)
    member_number_claim: Mapped[str | None] = mapped_column(String(100))
    coordinator_claim: Mapped[str | None] = mapped_column(String(100))
    coordinator_values: Mapped[list[Any]] = mapped_column(default=list)
    allow_self_registration: Mapped[bool] = mapped_column(default=False)
    origins: Mapped[list[Any]] = mapped_column(default=list)

    def __repr__(self) -> str:
        return f"<Portal id={self.id!r} tenant_id={self.tenant_id!r} kind={self.kind!r}>"
