"""Sign-in, sign-out, password change and the language switch."""
from datetime import datetime, timezone

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_url, login_user, logout_user
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db, limiter, login_manager
from ...htmx import hx_redirect, is_htmx
from ...models import Person
from ...security import log_security
from ...timeutil import utcnow
from . import bp
from .forms import LoginForm, PasswordChangeForm
from .services import authenticate, change_password, safe_next, sign_out


@login_manager.user_loader
def load_user(session_token: str) -> Person | None:
    """Find the person by the token of their current sign-in generation."""
    return db.session.scalar(
        select(Person).where(Person.session_token == session_token, Person.active.is_(True))
    )


@login_manager.unauthorized_handler
def unauthorized():
    """Send a signed-out person to the sign-in page; an htmx fragment asks for a full redirect."""
    target = login_url(login_manager.login_view, next_url=request.url)
    if is_htmx():
        return hx_redirect(target)
    return redirect(target)


def _login_rate() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_rate() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _submitted_account() -> str:
    """The per-account throttle's key: the work number as typed (known or not, so a 429 says
    nothing about which accounts exist), whatever address it comes from."""
    return "account:" + (request.form.get("work_no") or "").strip().upper()[:40]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"])
@limiter.limit(_account_rate, key_func=_submitted_account, methods=["POST"])
def login():
    """Show the sign-in form; sign in with work number and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        config = current_app.config
        try:
            person = authenticate(form.work_no.data, form.password.data, utcnow(),
                                  attempts=config["LOGIN_LOCK_ATTEMPTS"],
                                  minutes=config["LOGIN_LOCK_MINUTES"])
        except DomainError as error:
            log_security("sign_in_failed", work_no=form.work_no.data)
            form.form_errors.append(error.message)
        else:
            _start_session(person)
            log_security("sign_in", user=person.work_no)
            return redirect(safe_next(form.next.data) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


def _start_session(person: Person) -> None:
    lang = session.get("lang")
    session.clear()  # a fresh session at every sign-in
    if lang:
        session["lang"] = lang
    login_user(person)
    session.permanent = True
    session["signed_in_at"] = datetime.now(timezone.utc).timestamp()


@bp.post("/logout")
@login_required
def logout():
    """End this and every other session of the signed-in person."""
    sign_out(current_user)
    logout_user()
    session.clear()
    flash(_l("您已安全退出。"), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; every session ends and the person signs in again."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except DomainError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            logout_user()
            session.clear()
            flash(_l("密码已修改,请用新密码重新登录。"), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


@bp.post("/lang")
def set_language():
    """Switch the interface language (中文 / English)."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))
