"""Sign-in rules: hashed passwords, the same answer for every failure, a lock after 5 misses."""
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from ...audit import record
from ...errors import DomainError
from ...extensions import db
from ...models import Person, person_by_work_no

FAILED = _l("工号或密码不正确。连续输错 5 次,账户将锁定 15 分钟。")
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def is_locked(person: Person, now: datetime) -> bool:
    """True while the person's lock from repeated failures is running."""
    return person.locked_until is not None and person.locked_until > now


def register_failure(person: Person, now: datetime, attempts: int, minutes: int) -> bool:
    """Count a failed sign-in; lock the account at ``attempts`` failures. True if now locked."""
    person.failed_logins += 1
    if person.failed_logins >= attempts:
        person.failed_logins = 0
        person.locked_until = now + timedelta(minutes=minutes)
        return True
    return False


def authenticate(work_no: str, password: str, now: datetime, *, attempts: int = 5,
                 minutes: int = 15) -> Person:
    """Return the person for valid credentials or raise DomainError (one message for all)."""
    person = person_by_work_no(work_no.strip().upper())
    if person is None or not person.active:
        check_password_hash(_DUMMY_HASH, password)  # same work whether or not the person exists
        raise DomainError(FAILED)
    if is_locked(person, now):
        check_password_hash(_DUMMY_HASH, password)
        record("auth.sign_in_refused_locked", person, actor=person)
        db.session.commit()
        raise DomainError(FAILED)
    if not person.check_password(password):
        locked = register_failure(person, now, attempts, minutes)
        record("auth.sign_in_failed", person, actor=person, locked=locked)
        db.session.commit()
        raise DomainError(FAILED)
    person.failed_logins = 0
    person.locked_until = None
    record("auth.sign_in", person, actor=person)
    db.session.commit()
    return person


def change_password(person: Person, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends every other session."""
    if not person.check_password(current):
        raise DomainError(_l("当前密码不正确。"), field="current")
    if current == new:
        raise DomainError(_l("新密码不能与当前密码相同。"), field="new")
    person.set_password(new)
    record("auth.password_changed", person, actor=person)
    db.session.commit()


def sign_out(person: Person) -> None:
    """End every session of ``person`` by rotating the session token."""
    person.end_sessions()
    record("auth.sign_out", person, actor=person)
    db.session.commit()


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a relative path on this host, else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch < " " or ch == "\x7f" for ch in target):  # CR/LF can't go into a Location header
        return None  # (a 500 after signing in); urlsplit below would drop tabs and line ends
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
