"""Declaring API endpoints once: the route, who may call it, its body, query and response.

Each ``@api.route`` registers the Flask view *and* its OpenAPI operation, so the document in
``/api/openapi.json`` cannot drift from the code. The wrapper does the parsing every view would
repeat — the acting user from the token (never from a body), the JSON body and the query
string through pydantic models that reject unknown fields — and serialises the response model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from eduverse_core.errors import AuthenticationFailed, PermissionDenied
from eduverse_core.models import User

from .context import eduverse
from .errors import RequestInvalid

Auth = Literal["public", "user", "student", "instructor"]
V = TypeVar("V", bound=Callable[..., Any])

_RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    """One endpoint as the OpenAPI document describes it."""

    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tags: tuple[str, ...]
    auth: Auth
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    produces: str
    extra_statuses: tuple[int, ...] = field(default=())

    @property
    def openapi_path(self) -> str:
        return _RULE_PARAM.sub(lambda m: "{" + m.group(2) + "}", self.rule)

    def path_params(self) -> list[tuple[str, str]]:
        """(name, converter) for each ``<converter:name>`` in the rule."""
        return [(m.group(2), m.group(1) or "string") for m in _RULE_PARAM.finditer(self.rule)]


class Api:
    """The registry of every endpoint (one per app module import; read-only after import)."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(
        self,
        bp: Blueprint,
        method: str,
        rule: str,
        *,
        auth: Auth,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        produces: str = "application/json",
        tags: tuple[str, ...] = (),
        extra_statuses: tuple[int, ...] = (),
    ) -> Callable[[V], V]:
        """Register ``view`` at ``rule``. The view receives path parameters plus ``actor``
        (unless public), ``body`` and ``query`` when declared; it returns a response model, a
        dict for it, or a ready :class:`flask.Response` (CSV, 304)."""

        def decorator(view: V) -> V:
            op = Operation(
                method=method.upper(),
                rule=rule,
                endpoint=f"{bp.name}.{view.__name__}",
                summary=summary,
                description=(view.__doc__ or "").strip(),
                tags=tags or (bp.name,),
                auth=auth,
                body=body,
                query=query,
                response=response,
                status=status,
                produces=produces,
                extra_statuses=extra_statuses,
            )

            @wraps(view)
            def wrapper(**path_args: Any) -> Any:
                kwargs = dict(path_args)
                actor = current_actor(required=auth != "public")
                if auth in ("student", "instructor") and actor is not None:
                    require_role(actor, auth)
                if auth != "public":
                    kwargs["actor"] = actor
                if body is not None:
                    kwargs["body"] = parse_body(body)
                if query is not None:
                    kwargs["query"] = parse_model(query, request.args.to_dict(), "query")
                result = view(**kwargs)
                return render(result, response, status)

            bp.add_url_rule(rule, view.__name__, wrapper, methods=[op.method])
            self.operations.append(op)
            return view

        return decorator


api = Api()


def current_actor(*, required: bool) -> User | None:
    """The calling user, from the plugins' ``eduverse_web_actor_from_request`` (the built-in
    one reads a bearer token). 401 when required and absent."""
    ev = eduverse()
    actor = ev.pm.hook.eduverse_web_actor_from_request(eduverse=ev, request=request)
    if actor is None and required:
        raise AuthenticationFailed(
            "log in first (send Authorization: Bearer <token>)", code="not_authenticated"
        )
    return actor if isinstance(actor, User) else None


def require_role(actor: User, role: str) -> None:
    if actor.role != role:
        raise PermissionDenied(f"only a {role} may do this", code=f"{role}_only")


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body as ``model``: 415 if not JSON, 422 listing every problem."""
    if not request.is_json:
        raise UnsupportedMediaType("send a JSON body with Content-Type: application/json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise RequestInvalid("the body must be a JSON object", code="invalid_json")
    return parse_model(model, data, "body")


def parse_model(model: type[BaseModel], data: dict[str, Any], where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{where}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            if error["loc"]
            else f"{where}: {error['msg']}"
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestInvalid(problems[0], problems=problems) from None


def render(result: Any, model: type[BaseModel] | None, status: int) -> Response:
    """The view's result as ``{"ok": true, …}`` JSON, checked against the response model."""
    if isinstance(result, Response):
        return result
    if model is None:
        payload: dict[str, Any] = {"ok": True}
    else:
        instance = result if isinstance(result, model) else model.model_validate(result)
        payload = instance.model_dump(mode="json", by_alias=True)
    response = jsonify(payload)
    response.status_code = status
    return response
