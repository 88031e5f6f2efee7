"""Settings of one :class:`~eduverse_core.engine.Eduverse` instance.

Settings are plain data: read once from the environment (``EDUVERSE_*``) or given in code. No
module reads the environment anywhere else, so an embedding application controls everything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "EDUVERSE_"
MIN_SECRET_KEY_LENGTH = 32
KNOWN_WEAK_KEYS = frozenset(
    {"secret", "changeme", "change-me", "dev", "development", "test", "eduverse", "password"}
)


class Settings(BaseModel):
    """Everything configurable about an EduVerse instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: str = Field(
        "sqlite:///eduverse.db",
        description="Storage URL; its scheme picks the backend (sqlite:///path, sqlite://:memory:,"
        " firestore://PROJECT).",
    )
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Key that signs auth tokens. Set the same value on every instance.",
        repr=False,
    )
    default_pack: str = Field("logicore", description="Pack id a new learner starts in.")
    default_grader: str = Field("sandbox", description="Grader used when a cycle names none.")
    token_ttl_seconds: int = Field(
        12 * 3600, ge=60, description="How long an auth token is valid after log-in."
    )
    login_attempt_limit: int = Field(
        10, ge=1, description="Failed log-ins allowed per account and per address per window."
    )
    login_window_seconds: int = Field(
        15 * 60, ge=1, description="The window for counting failed log-ins."
    )
    allow_instructor_signup: bool = Field(
        False, description="Whether anyone may sign up as an instructor (off: use the CLI)."
    )
    cors_origins: tuple[str, ...] = Field(
        (), description="Origins allowed to call the API from a browser (default: same origin)."
    )
    plugins_dir: Path | None = Field(
        None, description="Folder of one-file plugins (*.py) loaded at start-up."
    )
    pack_paths: tuple[Path, ...] = Field(
        (), description="Extra scenario packs (files or folders) to load besides plugin packs."
    )
    pack_refresh_seconds: float = Field(
        30.0,
        ge=0,
        description="How often a running instance looks for newly published packs (`eduverse"
        " pack publish`); 0 looks on every use (tests).",
    )
    load_entry_points: bool = Field(
        True, description="Load plugins installed under the `eduverse` entry-point group."
    )
    disabled_plugins: tuple[str, ...] = Field(
        (), description="Names of plugins (default or installed) not to register."
    )
    environment: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses to start without a strong secret key and logs JSON.",
    )
    log_format: Literal["text", "json"] | None = Field(
        None, description="`json` (Cloud Logging) or `text`; default: json in production."
    )

    @property
    def json_logs(self) -> bool:
        """Whether logs go to stdout as one JSON object per line."""
        if self.log_format is not None:
            return self.log_format == "json"
        return self.environment == "production"

    def production_problems(self) -> list[str]:
        """Why these settings must not serve real users (empty when they may)."""
        problems = []
        if "secret_key" not in self.model_fields_set:
            problems.append(
                "EDUVERSE_SECRET_KEY is not set: every instance would sign tokens with its own"
                " random key (set one, e.g. from Secret Manager)"
            )
        elif (
            len(self.secret_key) < MIN_SECRET_KEY_LENGTH
            or self.secret_key.strip().lower() in KNOWN_WEAK_KEYS
        ):
            problems.append(
                f"EDUVERSE_SECRET_KEY is weak: use at least {MIN_SECRET_KEY_LENGTH} random"
                " characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.storage.startswith("sqlite://:memory:"):
            problems.append("EDUVERSE_STORAGE is in memory: every record is lost on restart")
        return problems

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``EDUVERSE_*`` variables; keyword arguments win over them."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        simple = {
            "STORAGE": "storage",
            "SECRET_KEY": "secret_key",
            "DEFAULT_PACK": "default_pack",
            "DEFAULT_GRADER": "default_grader",
            "ENV": "environment",
            "LOG_FORMAT": "log_format",
            "PACK_REFRESH_SECONDS": "pack_refresh_seconds",
        }
        for var, field in simple.items():
            if env.get(ENV_PREFIX + var):
                values[field] = env[ENV_PREFIX + var]
        if env.get(ENV_PREFIX + "ALLOW_INSTRUCTOR_SIGNUP"):
            values["allow_instructor_signup"] = _truthy(env[ENV_PREFIX + "ALLOW_INSTRUCTOR_SIGNUP"])
        if env.get(ENV_PREFIX + "LOAD_ENTRY_POINTS"):
            values["load_entry_points"] = _truthy(env[ENV_PREFIX + "LOAD_ENTRY_POINTS"])
        if env.get(ENV_PREFIX + "PLUGINS_DIR"):
            values["plugins_dir"] = Path(env[ENV_PREFIX + "PLUGINS_DIR"])
        if env.get(ENV_PREFIX + "PACKS"):
            values["pack_paths"] = tuple(
                Path(p) for p in env[ENV_PREFIX + "PACKS"].split(os.pathsep) if p
            )
        if env.get(ENV_PREFIX + "CORS_ORIGINS"):
            values["cors_origins"] = tuple(
                o.strip().rstrip("/")
                for o in env[ENV_PREFIX + "CORS_ORIGINS"].split(",")
                if o.strip()
            )
        if env.get(ENV_PREFIX + "DISABLED_PLUGINS"):
            values["disabled_plugins"] = _comma_list(env[ENV_PREFIX + "DISABLED_PLUGINS"])
        values.update(overrides)
        return cls.model_validate(values)


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())
