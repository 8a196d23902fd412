"""Secrets at rest: encrypted, rotatable, never shown, never decrypted into garbage."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from records import (
    ConnectorConfig,
    DecryptionError,
    EncryptionKeyError,
    SecretBox,
    ToolKey,
)

SECRET = "moodle-token-3f9a1c"


def test_round_trip_and_ciphertext_hides_the_secret() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    token = box.encrypt(SECRET)
    assert SECRET not in token
    assert box.decrypt(token) == SECRET


def test_wrong_key_gets_a_clear_error_not_garbage() -> None:
    token = SecretBox([Fernet.generate_key().decode()]).encrypt(SECRET)
    other = SecretBox([Fernet.generate_key().decode()])
    with pytest.raises(DecryptionError, match="could not be decrypted with TANDEM_ENCRYPTION_KEY"):
        other.decrypt(token)


def test_tampered_token_is_refused() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    token = box.encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(DecryptionError):
        box.decrypt(tampered)


def test_rotation_old_tokens_still_open_and_rotate_to_new_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).encrypt(SECRET)
    rotating = SecretBox.from_setting(f"{new},{old}")
    assert rotating.decrypt(token) == SECRET
    rotated = rotating.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == SECRET
    with pytest.raises(DecryptionError):
        SecretBox([old]).decrypt(rotated)


@pytest.mark.parametrize("setting", ["", " , ", "not-a-key", "short,also-short"])
def test_malformed_key_setting_is_refused_without_echoing_it(setting: str) -> None:
    with pytest.raises(EncryptionKeyError) as caught:
        SecretBox.from_setting(setting)
    message = str(caught.value)
    assert "TANDEM_ENCRYPTION_KEY" in message
    for part in setting.split(","):
        if part.strip():
            assert part.strip() not in message


def test_reprs_never_show_secrets() -> None:
    key = Fernet.generate_key().decode()
    box = SecretBox([key])
    token = box.encrypt(SECRET)
    assert key not in repr(box)
    config = ConnectorConfig(id=1, tenant_id=1, name="m", kind="moodle", secret_encrypted=token)
    assert token not in repr(config) and SECRET not in repr(config)
    tool_key = ToolKey(id=1, kid="k1", private_key_encrypted=token, public_jwk={})
    assert token not in repr(tool_key)


def test_rotate_secrets_reencrypts_everything_or_nothing(session) -> None:  # type: ignore[no-untyped-def]
    from records import Tenant
    from records.rotation import rotate_secrets

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    tenant = Tenant(slug="t", name="T")
    session.add(tenant)
    session.flush()
    old_box = SecretBox([old])
    session.add_all(
        [
            ConnectorConfig(
                tenant_id=tenant.id, name="a", kind="moodle", secret_encrypted=old_box.encrypt("1")
            ),
            ToolKey(kid="k", private_key_encrypted=old_box.encrypt("pem"), public_jwk={}),
        ]
    )
    session.commit()
    assert rotate_secrets(session, SecretBox([new, old])) == 2
    session.commit()
    only_new = SecretBox([new])
    config = session.scalars(select(ConnectorConfig)).one()
    assert only_new.decrypt(config.secret_encrypted) == "1"
    # A key set that cannot open the stored values changes nothing.
    stranger = SecretBox([Fernet.generate_key().decode()])
    with pytest.raises(DecryptionError):
        rotate_secrets(session, stranger)
    session.rollback()
    session.expire_all()
    assert only_new.decrypt(session.scalars(select(ToolKey)).one().private_key_encrypted) == "pem"
