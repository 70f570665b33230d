"""Making, checking and revoking API tokens."""
import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...audit import record
from ...errors import DomainError
from ...extensions import db
from ...timeutil import utcnow
from .models import ApiToken

TOKEN_PREFIX = "wyb_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, actor=None) -> tuple[ApiToken, str]:
    """Make a token named ``name``; return the row and the plain token (shown only now)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise DomainError(_l("请填写 1–80 个字符的名称。"), field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_digest(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    record("api_token.created", token, actor=actor, name=name)
    db.session.commit()
    return token, plain


def revoke_token(token: ApiToken, actor=None) -> None:
    """Stop a token from working; the row stays for the record."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("api_token.revoked", token, actor=actor, name=token.name)
        db.session.commit()


def find_active_token(plain: str) -> ApiToken | None:
    """Return the active token matching ``plain``, or None."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.token_hash, _digest(plain)):
        return None
    return token
