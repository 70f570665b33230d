"""The customer's rating page: no sign-in, no JavaScript, one rating per page view."""
import secrets
from pathlib import Path

from flask import (abort, current_app, make_response, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import lazy_gettext as _l
from werkzeug.utils import safe_join

from ...errors import DomainError, public_error_pages
from ...extensions import limiter
from ...security import log_security
from ...timeutil import utcnow
from . import bp, services
from .forms import RatingForm

PHONE_COOKIE = "rid"
PHONE_COOKIE_AGE = 365 * 24 * 3600
CODE_MAX = 64
PUBLIC_ENDPOINTS = ("ratings.rate", "ratings.thanks", "ratings.public_photo")
TITLES = {400: _l("未能提交评价"), 409: _l("评价已提交过"), 429: _l("请稍后再评价")}


def _message(status: int, title, message, window=None, retry: bool = False):
    """A page in the customer's style saying why nothing was stored."""
    page = render_template("ratings/rate_message.html", title=title, message=message,
                           window=window, retry=retry)
    return make_response(page, status)


def _window_or_404(token: str):
    window = services.window_by_token(token)
    if window is None:
        abort(_message(404, _l("未找到评价页面"),
                       _l("该二维码无效或已更换,请扫描柜台上张贴的二维码。")))
    return window


def _dynamic_code() -> str | None:
    code = request.args.get("code")  # it is looked up on submit: only a code's shape is kept
    return code if code and len(code) <= CODE_MAX and services.TOKEN_SHAPE.fullmatch(code) \
        else None


def _phone() -> str | None:
    rid = request.cookies.get(PHONE_COOKIE)
    return services.client_key(rid) if rid else None


def _one_time_page(response):
    """Keep the one-time page out of caches; give the phone its random identifier once."""
    response.headers["Cache-Control"] = "no-store"
    if not request.cookies.get(PHONE_COOKIE):
        response.set_cookie(PHONE_COOKIE, secrets.token_urlsafe(16), max_age=PHONE_COOKIE_AGE,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _refused(window, error: DomainError):
    """Say why the rating was not stored, in the customer's style, with the error's status."""
    if error.status != 400:
        log_security("rating_refused", status=error.status, window=window.id)
    response = _message(error.status, TITLES.get(error.status, TITLES[400]), error.message,
                        window=window, retry=error.status == 400)
    if error.status == 429:
        response.headers["Retry-After"] = str(current_app.config["RATING_REPEAT_MINUTES"] * 60)
    return response


def _closed(window):
    status = 400 if request.method == "POST" else 200
    return _message(status, _l("该窗口暂未开放评价"),
                    _l("请扫描正在为您办理业务的窗口的二维码,或咨询大堂经理。"), window=window)


@bp.route("/r/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATING_RATE_LIMIT"], methods=["POST"])
def rate(token: str):
    """Show a window's rating form; store the rating for the teller on duty there now."""
    window = _window_or_404(token)
    if window.duty is None:
        return _closed(window)
    form = RatingForm()
    if form.validate_on_submit():
        try:
            services.submit_rating(window, form.view_token.data, form.rating_input(),
                                   client=_phone(), ip=request.remote_addr, now=utcnow())
        except DomainError as error:
            return _refused(window, error)
        return redirect(url_for("ratings.thanks", token=token), 303)
    if not form.is_submitted():
        form.view_token.data = services.view_token(window, _dynamic_code())
    page = render_template("ratings/rate.html", window=window, teller=window.duty.person,
                           form=form, positive_tags=services.POSITIVE_TAGS,
                           negative_tags=services.NEGATIVE_TAGS)
    return _one_time_page(make_response(page, 400 if form.is_submitted() else 200))


def _complaint_url(window) -> str:
    """The complaint form pre-filled with outlet, window and the teller on duty."""
    teller = window.duty.person.work_no if window.duty else None
    return url_for("complaints.new", outlet=window.outlet.code, window=window.number,
                   teller=teller)


@bp.get("/r/<token>/thanks")
def thanks(token: str):
    """Thank the customer and offer to make a complaint (我要投诉)."""
    window = _window_or_404(token)
    return render_template("ratings/thanks.html", window=window,
                           complaint_url=_complaint_url(window))


@bp.get("/r/<token>/photo")
def public_photo(token: str):
    """Serve the photo of the teller on duty at the window, if they have one."""
    window = services.window_by_token(token)
    person = window.duty.person if window is not None and window.duty is not None else None
    photo = person.photo if person is not None else None
    path = safe_join(current_app.instance_path, "photos", photo) if photo else None
    if path is None or not Path(path).is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=60)


public_error_pages(bp, PUBLIC_ENDPOINTS, _message, _l("页面已过期,请重新扫码后再评价。"))
