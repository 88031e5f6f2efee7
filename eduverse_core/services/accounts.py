"""Accounts: sign-up, log-in (with transparent re-hash of legacy passwords), password change."""

from __future__ import annotations

import re

from .. import events
from ..errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from ..models import User
from ..passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from .base import Service, new_id

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_NAME_LENGTH = 80
# Verifying against a real hash when the e-mail is unknown keeps response times alike, so
# timing does not reveal which addresses have accounts.
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased; ``ValidationFailed`` unless it looks like an address."""
    normalized = email.strip().lower()
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        raise ValidationFailed(f"{email!r} is not a valid e-mail address", code="invalid_email")
    return normalized


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    if len(password) > 1024:
        raise ValidationFailed("the password is too long (max 1024)", code="weak_password")


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            f"the name must have 1 to {MAX_NAME_LENGTH} characters", code="invalid_name"
        )
    return cleaned


class AccountService(Service):
    """Creating accounts and checking credentials."""

    def sign_up(self, email: str, name: str, password: str, role: str = "student") -> User:
        """Self sign-up. Instructors only when ``settings.allow_instructor_signup``."""
        if role == "instructor" and not self.ev.settings.allow_instructor_signup:
            raise PermissionDenied(
                "instructor accounts are created by an administrator"
                " (eduverse users add --role instructor)",
                code="instructor_signup_disabled",
            )
        return self.create_user(email, name, password, role=role)

    def create_user(self, email: str, name: str, password: str, role: str = "student") -> User:
        """Create any account (the CLI and administrators). ``Conflict`` on a taken e-mail."""
        if role not in ("student", "instructor"):
            raise ValidationFailed(f"unknown role {role!r}", code="invalid_role")
        check_password_strength(password)
        user = User(
            id=new_id(),
            email=normalize_email(email),
            name=check_name(name),
            role=role,  # checked above
            password_hash=hash_password(password),
        )
        self.storage.create_user(user)
        self.ev.track(events.USER_SIGNED_UP, user.id, role=user.role)
        return user

    def log_in(self, email: str, password: str) -> User:
        """The user whose credentials these are; ``AuthenticationFailed`` otherwise (the same
        message whether the e-mail or the password is wrong)."""
        try:
            normalized = normalize_email(email)
        except ValidationFailed:
            normalized = ""
        user = self.storage.get_user_by_email(normalized) if normalized else None
        if user is None:
            verify_password(password, _DUMMY_HASH)
            raise AuthenticationFailed("wrong e-mail or password", code="bad_credentials")
        if not verify_password(password, user.password_hash):
            raise AuthenticationFailed("wrong e-mail or password", code="bad_credentials")
        if needs_rehash(user.password_hash):
            user = user.model_copy(update={"password_hash": hash_password(password)})
            self.storage.update_user(user)
        self.ev.track(events.USER_LOGGED_IN, user.id)
        return user

    def change_password(self, actor: User, old_password: str, new_password: str) -> User:
        """Change the actor's password; old tokens stop working (``token_version`` bumps)."""
        current = self.user(actor.id)
        if not verify_password(old_password, current.password_hash):
            raise AuthenticationFailed("the current password is wrong", code="bad_credentials")
        check_password_strength(new_password)
        updated = current.model_copy(
            update={
                "password_hash": hash_password(new_password),
                "token_version": current.token_version + 1,
            }
        )
        self.storage.update_user(updated)
        return updated

    def get(self, user_id: str) -> User:
        """The user ``user_id`` (``NotFound`` otherwise)."""
        return self.user(user_id)
