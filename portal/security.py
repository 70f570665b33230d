"""Request hardening: request ids, security log, response headers, session lifetime."""
import logging
import re
import secrets
from datetime import datetime, timezone
from functools import wraps

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user

security_log = logging.getLogger("portal.security")

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:"
)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def clean(value) -> str:
    """Make a value safe for one log line: control characters (CR/LF included) escaped."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))[:200]


def log_security(event: str, **fields) -> None:
    """Write one security-log line with UTC time, request id, address and ``fields``."""
    parts = [f"{key}={clean(val)}" for key, val in sorted(fields.items())]
    security_log.warning(
        "%s event=%s request_id=%s ip=%s %s",
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        event,
        getattr(g, "request_id", "-"),
        clean(request.remote_addr or "-"),
        " ".join(parts),
    )


class PortalSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose idle clock a passive request (polling) does not reset."""

    def should_set_cookie(self, app, session) -> bool:
        if g.get("passive_request") and not session.modified:
            return False
        return super().should_set_cookie(app, session)


def passive(view):
    """Mark a view as background polling: it must not keep an idle session alive."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.passive_request = True
        return view(*args, **kwargs)

    return wrapped


def init_security(app: Flask) -> None:
    """Register the request hooks that every response goes through."""
    app.session_interface = PortalSessionInterface()
    app.before_request(_assign_request_id)
    app.before_request(_enforce_session_lifetime)
    app.after_request(_set_headers)


def _assign_request_id() -> None:
    g.request_id = secrets.token_hex(8)


def _enforce_session_lifetime() -> None:
    """End a staff session 12 hours after sign-in whatever the activity (idle: cookie age)."""
    if not current_user.is_authenticated:
        return
    signed_in_at = session.get("signed_in_at", 0)
    absolute = current_app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds()
    if datetime.now(timezone.utc).timestamp() - signed_in_at > absolute:
        log_security("session_expired", user=current_user.work_no)
        logout_user()
        session.clear()


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers["X-Request-ID"] = getattr(g, "request_id", "-")
    if current_user and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
    if g.get("varies_on_htmx"):
        response.vary.add("HX-Request")
    return response
