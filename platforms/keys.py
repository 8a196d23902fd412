"""The tool's RSA keys: the active one signs, recently retired ones stay published."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from records import Credential, SecretBox, ToolKey, utcnow

# Platforms cache the tool's key set; a retired key stays published this long so that
# messages signed just before a rotation still verify.
RETIRED_KEY_GRACE = timedelta(days=7)
KEY_SIZE = 2048


@dataclass(frozen=True)
class SigningKey:
    """The active private key, ready to sign: its ``kid``, PEM text and loaded key."""

    kid: str
    private_pem: str
    private_key: rsa.RSAPrivateKey


def _new_key(box: SecretBox, private: rsa.RSAPrivateKey | None) -> ToolKey:
    if private is None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    kid = secrets.token_urlsafe(16)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(kid=kid, state="active", private_key_encrypted=box.encrypt(pem), public_jwk=jwk)


def rotate_key(
    session: Session, box: SecretBox, private_key: rsa.RSAPrivateKey | None = None
) -> ToolKey:
    """Retire the active key (if any) and make a new active one.

    Args:
        private_key: the new key; by default a fresh 2048-bit RSA key.

    Returns:
        the new active key.
    """
    now = utcnow()
    session.execute(
        update(ToolKey).where(ToolKey.state == "active").values(state="retired", retired_at=now)
    )
    key = _new_key(box, private_key)
    session.add(key)
    session.flush()
    return key


def active_key(session: Session, box: SecretBox) -> ToolKey:
    """The active key, created on first use when the tool has none yet."""
    key = session.scalars(
        select(ToolKey).where(ToolKey.state == "active").order_by(ToolKey.id.desc()).limit(1)
    ).first()
    return key if key is not None else rotate_key(session, box)


@lru_cache(maxsize=8)
def _load(encrypted: str, box: SecretBox) -> tuple[str, rsa.RSAPrivateKey]:
    # Decrypting and loading cost time; keys change rarely. The RSA consistency checks
    # (~0.1 s) are skipped: Tandem made this key, and Fernet authenticates the ciphertext.
    pem = box.decrypt(encrypted)
    private = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(private, rsa.RSAPrivateKey):
        raise TypeError(f"tool key is {type(private).__name__}, not RSA")
    return pem, private


def signing_key(session: Session, box: SecretBox) -> SigningKey:
    """The active key, for signing messages and assertions."""
    key = active_key(session, box)
    pem, private = _load(key.private_key_encrypted, box)
    return SigningKey(kid=key.kid, private_pem=pem, private_key=private)


def public_key_set(session: Session, box: SecretBox) -> dict[str, Any]:
    """The JWKS to publish: the active key, keys retired in the last seven days, and
    retired keys that signed a credential not revoked (it must stay verifiable)."""
    active_key(session, box)
    cutoff = utcnow() - RETIRED_KEY_GRACE
    still_signing = select(Credential.kid).where(
        Credential.kid.is_not(None), Credential.revoked_at.is_(None)
    )
    keys = session.scalars(
        select(ToolKey)
        .where(
            or_(
                ToolKey.state == "active",
                (ToolKey.state == "retired") & (ToolKey.retired_at > cutoff),
                (ToolKey.state == "retired") & ToolKey.kid.in_(still_signing),
            )
        )
        .order_by(ToolKey.id.desc())
    ).all()
    return {"keys": [dict(key.public_jwk) for key in keys]}


def sign_claims(session: Session, box: SecretBox, claims: dict[str, Any]) -> str:
    """Sign a JWT payload with the active key (RS256, its ``kid`` in the header), so that
    anyone can check it against ``/lti/jwks``; credentials use it."""
    key = signing_key(session, box)
    return jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"}
    )
