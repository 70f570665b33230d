"""Settings read from the environment (see README, "Settings")."""
import os
import secrets
from datetime import time, timedelta
from pathlib import Path

MIN_SECRET_BYTES = 32


class WeakSecretKey(RuntimeError):
    """The configured SECRET_KEY is too short to sign sessions safely."""


def load_secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, else from instance/secret_key (made once)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_hex(MIN_SECRET_BYTES)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def default_settings(instance_path: str, overrides: dict) -> dict:
    """Build the settings from the environment, then apply ``overrides`` (tests)."""
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    database_url = os.environ.get(
        "DATABASE_URL", f"sqlite:///{Path(instance_path) / 'portal.db'}"
    )
    settings = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "BASE_URL": base_url,
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "portal_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=30),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_ABSOLUTE_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ("zh_CN", "en"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LOCK_ATTEMPTS": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "LOGIN_RATE_LIMIT": "20 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",  # per submitted work number
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "PAGE_SIZE": 25,
        "RATING_REPEAT_MINUTES": 10,  # same phone, same teller (default, SPEC 3)
        "RATING_FLAG_BURST": 3,  # ratings from one address in 10 minutes before flagging
        "RATING_RATE_LIMIT": "6 per minute; 30 per hour",
        "PUBLIC_RATE_LIMIT": "10 per minute; 60 per hour",
        # business hours the complaint clocks count in (default 09:00–17:00 every day, SPEC 4)
        "COMPLAINT_BUSINESS_HOURS": business_hours(
            os.environ.get("COMPLAINT_BUSINESS_HOURS", "09:00-17:00")),
    }
    settings.update(overrides)
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = load_secret_key(instance_path)
    return settings


def business_hours(text: str) -> tuple[time, time]:
    """Read ``HH:MM-HH:MM``; refuse at start-up anything else, or a day that closes first."""
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"COMPLAINT_BUSINESS_HOURS must look like 09:00-17:00, not {text!r}") from None
    if not opens < closes:
        raise ValueError(f"COMPLAINT_BUSINESS_HOURS must open before it closes: {text!r}")
    return opens, closes


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def check_secret_key(app) -> None:
    """Refuse to run outside debug/testing with a weak SECRET_KEY."""
    if app.debug or app.testing:
        return
    if len(app.config.get("SECRET_KEY") or "") < MIN_SECRET_BYTES:
        raise WeakSecretKey("SECRET_KEY must be at least 32 characters of random data")
