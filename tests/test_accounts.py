"""Accounts: sign-up, log-in, legacy password re-hash, password change."""

from __future__ import annotations

import hashlib

import pytest

from eduverse_core import (
    AuthenticationFailed,
    Conflict,
    Eduverse,
    PermissionDenied,
    ValidationFailed,
)
from eduverse_core.models import User
from eduverse_core.passwords import hash_password, needs_rehash, verify_password

from fakes import PASSWORD


def test_sign_up_normalises_the_email_and_hashes_with_scrypt(ev: Eduverse) -> None:
    user = ev.accounts.sign_up("  Ada@Example.ORG ", "  Ada   Lovelace ", PASSWORD)
    assert user.email == "ada@example.org"
    assert user.name == "Ada Lovelace"
    assert user.role == "student"
    assert user.password_hash.startswith("scrypt$")
    assert PASSWORD not in user.password_hash


def test_public_view_of_a_user_has_no_secrets(student: User) -> None:
    public = student.public()
    assert "password_hash" not in public
    assert "token_version" not in public
    assert public["email"] == "student@example.org"


def test_sign_up_with_taken_email_is_conflict(ev: Eduverse, student: User) -> None:
    with pytest.raises(Conflict) as info:
        ev.accounts.sign_up("STUDENT@example.org", "Again", PASSWORD)
    assert info.value.code == "email_taken"


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "two@@example.org", "sp ace@x.org"])
def test_sign_up_with_invalid_email_is_validation_failed(ev: Eduverse, email: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        ev.accounts.sign_up(email, "Name", PASSWORD)
    assert info.value.code == "invalid_email"


def test_sign_up_with_short_password_is_validation_failed(ev: Eduverse) -> None:
    with pytest.raises(ValidationFailed) as info:
        ev.accounts.sign_up("short@example.org", "Name", "1234567")
    assert "8 characters" in info.value.message


def test_sign_up_as_instructor_is_refused_unless_settings_allow(ev: Eduverse) -> None:
    with pytest.raises(PermissionDenied) as info:
        ev.accounts.sign_up("teach@example.org", "T", PASSWORD, role="instructor")
    assert info.value.code == "instructor_signup_disabled"


def test_instructor_created_by_administrator(ev: Eduverse) -> None:
    user = ev.accounts.create_user("teach@example.org", "T", PASSWORD, role="instructor")
    assert user.role == "instructor"


def test_log_in_returns_the_user(ev: Eduverse, student: User) -> None:
    assert ev.accounts.log_in("student@EXAMPLE.org", PASSWORD).id == student.id


@pytest.mark.parametrize(
    ("email", "password"),
    [("student@example.org", "wrong password"), ("nobody@example.org", PASSWORD), ("x", "y")],
)
def test_log_in_with_bad_credentials_fails_with_one_message(
    ev: Eduverse, student: User, email: str, password: str
) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        ev.accounts.log_in(email, password)
    assert info.value.message == "wrong e-mail or password"


def _store_with_hash(ev: Eduverse, user: User, stored: str) -> None:
    ev.storage.update_user(user.model_copy(update={"password_hash": stored}))


def test_log_in_rehashes_a_legacy_pbkdf2_hash(ev: Eduverse, student: User) -> None:
    digest = hashlib.pbkdf2_hmac("sha256", b"legacy-pass", b"salt", 1000).hex()
    _store_with_hash(ev, student, f"pbkdf2:sha256:1000$salt${digest}")
    ev.accounts.log_in("student@example.org", "legacy-pass")
    stored = ev.storage.get_user(student.id)
    assert stored is not None and stored.password_hash.startswith("scrypt$")
    assert verify_password("legacy-pass", stored.password_hash)


def test_log_in_rehashes_a_legacy_plaintext_password(ev: Eduverse, student: User) -> None:
    _store_with_hash(ev, student, "plain$hunter22")
    with pytest.raises(AuthenticationFailed):
        ev.accounts.log_in("student@example.org", "hunter2")
    ev.accounts.log_in("student@example.org", "hunter22")
    stored = ev.storage.get_user(student.id)
    assert stored is not None and not needs_rehash(stored.password_hash)


def test_change_password_bumps_token_version(ev: Eduverse, student: User) -> None:
    updated = ev.accounts.change_password(student, PASSWORD, "a new long password")
    assert updated.token_version == student.token_version + 1
    with pytest.raises(AuthenticationFailed):
        ev.accounts.log_in("student@example.org", PASSWORD)
    assert ev.accounts.log_in("student@example.org", "a new long password").id == student.id


def test_change_password_needs_the_current_one(ev: Eduverse, student: User) -> None:
    with pytest.raises(AuthenticationFailed):
        ev.accounts.change_password(student, "not it at all", "a new long password")


def test_password_hashes_are_salted() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_unknown_hash_format_never_verifies() -> None:
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "scrypt$broken")
