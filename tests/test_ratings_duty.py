"""The teller's window (上岗 / 下岗 / 请评价, the dynamic code) and the printable QR codes."""
import html
import re

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.blueprints.admin.services import build_unit
from portal.blueprints.ratings import services
from portal.blueprints.ratings.duty import qr_data_uri
from portal.blueprints.ratings.models import DutySession, Invitation, Window
from portal.extensions import db
from portal.models import unit_by_code
from portal.timeutil import utcnow

from .conftest import person, sign_in_as

HX = {"HX-Request": "true"}
WINDOW_ROUTES = (("get", "/ratings/window"), ("get", "/ratings/window/code"),
                 ("get", "/ratings/window/screen"), ("post", "/ratings/window/open"),
                 ("post", "/ratings/window/close"), ("post", "/ratings/window/invite"))


class FreshUserClient(FlaskClient):
    """A test client whose every request loads the signed-in person afresh (see test_admin)."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def fresh_user_per_request(app):
    app.test_client_class = FreshUserClient


def window_of(outlet: str = "ZJK-001", number: int = 1) -> Window:
    return db.session.scalar(select(Window).where(Window.outlet_id == unit_by_code(outlet).id,
                                                  Window.number == number))


def client_of(app, work_no: str):
    return sign_in_as(app.test_client(), work_no)


def duties() -> int:
    return db.session.scalar(select(func.count()).select_from(DutySession))


def invitations() -> int:
    return db.session.scalar(select(func.count()).select_from(Invitation))


def error_of(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def img_src(page: str) -> str:
    return html.unescape(re.search(r'<img src="([^"]+)"', page).group(1))


# --- opening, closing, inviting -----------------------------------------------------------

def test_a_teller_opens_a_window_of_their_outlet_and_is_on_duty(teller, client):
    window = window_of(number=2)
    response = teller.post("/ratings/window/open", data={"window": str(window.id)})
    assert response.status_code == 303 and response.headers["Location"] == "/ratings/window"
    db.session.refresh(window)
    assert window.duty.person.work_no == "T1001"
    assert services.current_invitation(window.duty) is not None
    page = teller.get("/ratings/window").get_data(as_text=True)
    assert "已开启 2 号窗口的评价" in page and "您正在 2 号窗口接受评价" in page
    assert "王芳(T1001)" in page and ">下岗</button>" in page and ">请评价</button>" in page
    assert 'href="/ratings/window/screen"' in page
    assert "王芳" in client.get(f"/r/{window.token}").get_data(as_text=True)


def test_a_lobby_manager_may_open_a_window_too(lobby):
    window = window_of(number=6)
    assert lobby.post("/ratings/window/open", data={"window": str(window.id)}).status_code == 303
    db.session.refresh(window)
    assert window.duty.person.work_no == "L0001"


@pytest.mark.parametrize("chosen", ["other-outlet", "", "abc", "99999", "-1", "1.5"])
def test_opening_a_window_not_of_ones_outlet_is_refused_and_changes_nothing(teller, chosen):
    value = str(window_of("ZJK-002", 1).id) if chosen == "other-outlet" else chosen
    response = teller.post("/ratings/window/open", data={"window": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_of(page, "window") == "请选择本网点的窗口。"
    assert duties() == 0 and window_of("ZJK-002", 1).duty_id is None


def test_a_window_held_by_another_teller_is_refused(app, teller):
    window = window_of()
    services.open_window(person("T1002"), window, utcnow())
    plain = teller.post("/ratings/window/open", data={"window": str(window.id)})
    assert plain.status_code == 303
    page = teller.get(plain.headers["Location"]).get_data(as_text=True)
    assert "该窗口已由其他柜员开启评价" in page
    htmx = teller.post("/ratings/window/open", data={"window": str(window.id)}, headers=HX)
    fragment = htmx.get_data(as_text=True)
    assert htmx.status_code == 409 and "<html" not in fragment
    assert "该窗口已由其他柜员开启评价" in fragment and "HX-Request" in htmx.headers["Vary"]
    db.session.refresh(window)
    assert window.duty.person.work_no == "T1002"
    assert services.current_duty(person("T1001")) is None


def test_htmx_actions_answer_with_a_client_side_redirect(teller):
    window = window_of()
    response = teller.post("/ratings/window/open", data={"window": str(window.id)}, headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/ratings/window"
    invited = teller.post("/ratings/window/invite", headers=HX)
    assert invited.status_code == 204 and invited.headers["HX-Redirect"] == "/ratings/window"


def test_closing_ends_the_duty_and_the_rating_page_shows_closed_again(teller, client):
    window = window_of()
    teller.post("/ratings/window/open", data={"window": str(window.id)})
    assert "王芳" in client.get(f"/r/{window.token}").get_data(as_text=True)
    response = teller.post("/ratings/window/close")
    assert response.status_code == 303
    db.session.refresh(window)
    assert window.duty_id is None
    duty = db.session.scalar(select(DutySession))
    assert duty.closed_at is not None
    page = client.get(f"/r/{window.token}").get_data(as_text=True)
    assert "该窗口暂未开放评价" in page and "王芳" not in page
    assert "已下岗" in teller.get("/ratings/window").get_data(as_text=True)


def test_closing_or_inviting_without_a_duty_is_refused_with_a_message(teller):
    for path, message in (("/ratings/window/close", "您当前没有开启评价的窗口"),
                          ("/ratings/window/invite", "请先开启评价")):
        plain = teller.post(path)
        assert plain.status_code == 303
        assert message in teller.get("/ratings/window").get_data(as_text=True)
        htmx = teller.post(path, headers=HX)
        assert htmx.status_code == 400 and message in htmx.get_data(as_text=True)
    assert invitations() == 0


def test_please_rate_creates_a_new_invitation(teller):
    window = window_of()
    teller.post("/ratings/window/open", data={"window": str(window.id)})
    db.session.refresh(window)
    before, first = invitations(), services.current_invitation(window.duty)
    assert teller.post("/ratings/window/invite").status_code == 303
    newest = services.current_invitation(window.duty)
    assert invitations() == before + 1 and newest.id != first.id
    assert "已生成新的评价码" in teller.get("/ratings/window").get_data(as_text=True)


def test_with_csrf_on_an_action_without_the_token_is_refused(app_factory):
    guarded = app_factory(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = sign_in_as(guarded.test_client(), "T1001")
        response = client.post("/ratings/window/open", data={"window": str(window_of().id)})
        assert response.status_code == 400 and duties() == 0


# --- the dynamic code ---------------------------------------------------------------------

def test_the_code_fragment_is_a_self_refreshing_qr_of_the_current_dynamic_code(app, teller):
    window = window_of()
    teller.post("/ratings/window/open", data={"window": str(window.id)})
    db.session.refresh(window)
    code = services.current_invitation(window.duty).code
    response = teller.get("/ratings/window/code", headers=HX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert "HX-Request" in response.headers["Vary"]
    assert 'hx-get="/ratings/window/code"' in fragment and 'hx-trigger="every 3s"' in fragment
    assert 'hx-swap="outerHTML"' in fragment and 'hx-target="this"' in fragment
    assert '<img src="data:image/svg+xml' in fragment and 'alt="动态评价二维码' in fragment
    expected = f"{app.config['BASE_URL']}/r/{window.token}?code={code}"
    assert img_src(fragment) == qr_data_uri(expected)
    full = teller.get("/ratings/window/code").get_data(as_text=True)
    assert "<html" in full and img_src(full) == qr_data_uri(expected)


def test_without_a_duty_the_code_says_rating_is_not_open(lobby):
    fragment = lobby.get("/ratings/window/code", headers=HX).get_data(as_text=True)
    assert "未开启评价" in fragment and "<img" not in fragment


def test_the_customer_screen_shows_the_big_code_and_who_is_serving(teller):
    teller.post("/ratings/window/open", data={"window": str(window_of(number=4).id)})
    page = teller.get("/ratings/window/screen").get_data(as_text=True)
    assert "请扫码评价" in page and "王芳" in page and "T1001" in page and "4 号窗口" in page
    assert '<img src="data:image/svg+xml' in page and 'hx-trigger="every 3s"' in page
    assert "htmx.min.js" in page


# --- who may use the window pages ---------------------------------------------------------

@pytest.mark.parametrize("role", ["office", "admin"])
def test_the_window_pages_are_forbidden_outside_the_outlet(request, role):
    client = request.getfixturevalue(role)
    for method, path in WINDOW_ROUTES:
        assert getattr(client, method)(path).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for method, path in WINDOW_ROUTES + (("get", "/ratings/qr"),):
        response = getattr(client, method)(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_navigation_offers_the_window_and_the_qr_codes_by_role(teller, manager, office):
    assert ">我的窗口</a>" in teller.get("/").get_data(as_text=True)
    assert ">评价二维码</a>" not in teller.get("/").get_data(as_text=True)
    page = manager.get("/").get_data(as_text=True)
    assert ">我的窗口</a>" in page and ">评价二维码</a>" in page
    assert ">我的窗口</a>" not in office.get("/").get_data(as_text=True)


# --- the printable QR codes ---------------------------------------------------------------

def test_the_qr_page_lists_every_window_with_an_absolute_url(app, manager):
    page = manager.get("/ratings/qr").get_data(as_text=True)
    base = app.config["BASE_URL"]
    urls = re.findall(r'<p class="qr-url">([^<]+)</p>', page)
    assert len(urls) == 6 and all(url.startswith(base + "/r/") for url in urls)
    for number in range(1, 7):
        window = window_of(number=number)
        assert f"{base}/r/{window.token}" in urls
        assert f"{number} 号窗口</h2>" in page
    assert page.count('<img src="data:image/svg+xml') == 6
    assert page.count("扫码评价 · 文明优质服务") == 6 and page.count("营业部网点</p>") == 6
    assert img_src(page) == qr_data_uri(urls[0])
    assert ".qr-card" in (css := manager.get("/static/portal.css").get_data(as_text=True))
    assert "page-break-inside: avoid" in css


def test_a_manager_replaces_only_their_own_outlets_window_token(app, manager, client):
    window = window_of(number=2)
    old = window.token
    other = client_of(app, "M0002")
    assert other.post(f"/ratings/windows/{window.id}/token").status_code == 404
    db.session.refresh(window)
    assert window.token == old
    response = manager.post(f"/ratings/windows/{window.id}/token")
    assert response.status_code == 303 and response.headers["Location"] == "/ratings/qr"
    db.session.refresh(window)
    assert window.token != old and len(window.token) >= 22
    assert client.get(f"/r/{old}").status_code == 404
    assert client.get(f"/r/{window.token}").status_code == 200
    page = manager.get("/ratings/qr").get_data(as_text=True)
    assert "已更换 2 号窗口的二维码" in page and old not in page
    assert manager.post("/ratings/windows/999999/token").status_code == 404


def test_the_office_sees_outlets_in_its_scope_only(app, office, manager):
    hq = unit_by_code("HQ")
    other_branch = build_unit("BJ", "北京分行", "branch", hq, 0)
    build_unit("BJ-001", "北京网点", "outlet", other_branch, 2)
    db.session.commit()
    listing = office.get("/ratings/qr").get_data(as_text=True)
    assert 'href="/ratings/qr?outlet=ZJK-001"' in listing
    assert 'href="/ratings/qr?outlet=ZJK-002"' in listing and "BJ-001" not in listing
    page = office.get("/ratings/qr?outlet=ZJK-001").get_data(as_text=True)
    assert page.count('<p class="qr-url">') == 6 and "更换二维码" not in page
    for code in ("NOPE", "BJ-001", "ZJK", "x" * 500):
        assert office.get(f"/ratings/qr?outlet={code}").status_code == 404, code
    assert manager.get("/ratings/qr?outlet=ZJK-002").status_code == 404
    assert office.post(f"/ratings/windows/{window_of().id}/token").status_code == 403


# --- bounded queries ----------------------------------------------------------------------

def test_the_window_and_qr_pages_run_a_bounded_number_of_queries(app, count_queries):
    viewer = client_of(app, "T1006")
    manager = client_of(app, "M0001")

    def queries(client, path):
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    idle = (queries(viewer, "/ratings/window"), queries(manager, "/ratings/qr"))
    for number, work_no in enumerate(("T1001", "T1002", "T1003", "T1004", "T1005"), start=1):
        services.open_window(person(work_no), window_of(number=number), utcnow())
    busy = (queries(viewer, "/ratings/window"), queries(manager, "/ratings/qr"))
    assert busy == idle and max(busy) <= 6, (idle, busy)
    services.open_window(person("T1006"), window_of(number=6), utcnow())
    assert queries(viewer, "/ratings/window") <= 8
    assert queries(viewer, "/ratings/window/code") <= 5
