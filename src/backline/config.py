"""Read Backline's configuration from ``BACKLINE_*`` environment variables.

Every setting an operator may change is read here, validated, and turned into a clear message naming
the variable when it is wrong, so a bad deployment stops at start-up instead of failing at 3 a.m.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url


class ConfigError(Exception):
    """A configuration variable holds a value Backline cannot use."""


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def var_dir() -> Path:
    """The folder for local state (SQLite file, secret key, log store): ``BACKLINE_VAR_DIR`` or ./var."""
    path = Path(os.environ.get("BACKLINE_VAR_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false (got {raw!r})")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum} (got {value})")
    return value


def time_zone() -> str:
    name = os.environ.get("BACKLINE_TIME_ZONE", "America/New_York").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"BACKLINE_TIME_ZONE must be an IANA time zone such as America/New_York (got {name!r})"
        ) from None
    return name


def secret_key() -> str:
    """``BACKLINE_SECRET_KEY``, or a key generated once and kept in var/secret_key (never committed)."""
    key = os.environ.get("BACKLINE_SECRET_KEY")
    if key is not None:
        if len(key) < 32:
            raise ConfigError("BACKLINE_SECRET_KEY must be at least 32 characters long")
        return key
    path = var_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def database() -> dict[str, object]:
    """``BACKLINE_DATABASE_URL`` parsed; default a SQLite file under var/ (WAL mode, set on connect)."""
    url = os.environ.get("BACKLINE_DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{var_dir() / 'backline.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    except Exception as exc:  # dj_database_url raises several types for one problem: a bad URL
        raise ConfigError(
            f"BACKLINE_DATABASE_URL is not a database URL Backline understands ({exc}); "
            "use postgres://user:password@host:5432/name or sqlite:///path/to/file"
        ) from None
    engine = str(config.get("ENGINE", ""))
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise ConfigError(
            f"BACKLINE_DATABASE_URL must point at PostgreSQL or SQLite (got engine {engine!r})"
        )
    if engine == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000;",
            "transaction_mode": "IMMEDIATE",
        }
    return config


def allowed_hosts(debug: bool) -> list[str]:
    raw = os.environ.get("BACKLINE_ALLOWED_HOSTS")
    if raw is None:
        return ["127.0.0.1", "localhost", "[::1]", "testserver"]
    hosts = [h.strip() for h in raw.split(",") if h.strip()]
    if not hosts:
        raise ConfigError(
            "BACKLINE_ALLOWED_HOSTS must list at least one host name, comma-separated"
        )
    return hosts
