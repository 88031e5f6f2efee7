"""Sign-up, log-in, logout, the current user, password change."""

from __future__ import annotations

from flask import Blueprint, request

from eduverse_core.errors import AuthenticationFailed
from eduverse_core.models import User
from eduverse_core.services.sessions import Session

from .api import api
from .bearer import bearer_token
from .context import eduverse
from .models import ClassSummary, LoginBody, MeOut, PasswordBody, SessionOut, SignupBody, UserOut

bp = Blueprint("auth", __name__)


def session_out(session: Session) -> SessionOut:
    return SessionOut(
        token=session.token, expires_at=session.expires_at, user=UserOut.of(session.user)
    )


@api.route(
    bp,
    "POST",
    "/api/auth/signup",
    auth="public",
    summary="Create an account",
    body=SignupBody,
    response=SessionOut,
    status=201,
    extra_statuses=(403, 409),
)
def signup(body: SignupBody) -> SessionOut:
    ev = eduverse()
    user = ev.accounts.sign_up(body.email, body.name, body.password, body.role)
    return session_out(ev.sessions.issue(user))


@api.route(
    bp,
    "POST",
    "/api/auth/login",
    auth="public",
    summary="Log in",
    body=LoginBody,
    response=SessionOut,
    extra_statuses=(401, 429),
)
def login(body: LoginBody) -> SessionOut:
    client = request.remote_addr or "unknown"
    return session_out(eduverse().sessions.log_in(body.email, body.password, client))


@api.route(bp, "POST", "/api/auth/logout", auth="user", summary="Revoke this token")
def logout(actor: User) -> dict[str, bool]:
    token = bearer_token(request)
    if token is None:  # authenticated some other way (a plugin): nothing to revoke
        raise AuthenticationFailed("no bearer token to revoke", code="not_authenticated")
    eduverse().sessions.revoke(token)
    return {"ok": True}


@api.route(bp, "GET", "/api/me", auth="user", summary="Who am I", response=MeOut)
def me(actor: User) -> MeOut:
    ev = eduverse()
    classroom = ev.classes.my_class(actor)
    pack_id = classroom.pack_id if classroom else ev.settings.default_pack
    return MeOut(
        user=UserOut.of(actor),
        class_=ClassSummary.of(classroom) if classroom else None,
        pack_id=pack_id,
    )


@api.route(
    bp,
    "POST",
    "/api/me/password",
    auth="user",
    summary="Change my password",
    body=PasswordBody,
    response=SessionOut,
    extra_statuses=(401,),
)
def change_password(actor: User, body: PasswordBody) -> SessionOut:
    """Every older token stops working; the response carries a fresh one."""
    ev = eduverse()
    updated = ev.accounts.change_password(actor, body.old_password, body.new_password)
    return session_out(ev.sessions.issue(updated))
