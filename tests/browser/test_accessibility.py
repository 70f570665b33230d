"""Accessibility (issue 7): axe-core finds nothing on every main page of every role, and the
customer's pages work on a 360 px phone.

One live portal with the full demo history (``seed_demo(with_history=True)``, about 5 s) serves
all pages of this module. axe-core is vendored in ``vendor/axe-core`` (see its README). It is
loaded with ``context.add_init_script``: ``page.add_script_tag`` inserts an inline script,
which the portal's CSP (``default-src 'self'``) refuses unless the context bypasses the CSP;
an init script runs under the CSP untouched, so these pages are checked exactly as served
(and faster: the script is sent to the browser once per context, not once per page).

Rules: axe's WCAG 2.0/2.1/2.2 A and AA tags plus its best practices. One rule is skipped on one
page: ``meta-refresh`` on the hall's honours screen (see SCREEN_EXEMPT). Touch targets on the
phone are checked against 44×44 CSS px (WCAG 2.5.5, AAA, and the platforms' guidance), more
than the 24×24 of WCAG 2.2's 2.5.8 that axe's ``target-size`` rule checks on every page.
"""
import sqlite3
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from portal import MIGRATIONS
from portal.blueprints.ratings import services as rating_services
from portal.blueprints.ratings.models import Window
from portal.demo import seed_demo
from portal.extensions import db
from portal.models import OrgUnit, Person
from portal.timeutil import utcnow

from ..conftest import make_app
from .conftest import HALL_PC, PHONE

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PASSWORD = "demo-pass-2026"
TOUCH = 44  # px, the smallest tap target accepted on the customer's phone pages
TV = {"width": 1920, "height": 1080}
# The only rule not applied, on the hall's honours screen only: SPEC 6 has that unattended TV
# reload itself (every minute, by <meta http-equiv=refresh>, the page has no script). It has no
# form, link or control a person could be interrupted in, so WCAG 2.2.1's concern does not arise.
SCREEN_EXEMPT = {"meta-refresh": "the hall TV refreshes itself (SPEC 6); nothing to interact with"}


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory):
    """A live portal on a fresh database with the whole demo history; T1001 on duty at
    ZJK-001's window 1. Yields (base URL, database file)."""
    folder = tmp_path_factory.mktemp("a11y")
    database = folder / "portal.db"
    url = f"sqlite:///{database}"
    builder = make_app(url, folder)
    with builder.app_context():
        upgrade(directory=MIGRATIONS)
        seed_demo(with_history=True)
        teller = db.session.scalar(select(Person).where(Person.work_no == "T1001"))
        window = db.session.scalar(select(Window).join(OrgUnit, Window.outlet_id == OrgUnit.id)
                                   .where(OrgUnit.code == "ZJK-001", Window.number == 1))
        rating_services.open_window(teller, window, utcnow())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    app = make_app(url, folder, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", database
    server.shutdown()
    thread.join(timeout=5)


def _one(database: Path, sql: str, *args):
    with sqlite3.connect(database) as conn:
        row = conn.execute(sql, args).fetchone()
    assert row is not None, f"the demo data has no row for: {sql} {args}"
    return row[0] if len(row) == 1 else row


@pytest.fixture(scope="module")
def sample(demo_portal) -> dict:
    """Ids and keys of demo records whose detail pages are checked."""
    _, database = demo_portal
    window = 'SELECT w.token FROM "window" w JOIN org_unit o ON o.id = w.outlet_id ' \
             "WHERE o.code = 'ZJK-001' AND w.number = ?"
    complaint = "SELECT c.id FROM complaint c JOIN org_unit o ON o.id = c.outlet_id " \
                "WHERE o.code = 'ZJK-001'"
    ticket, phone = _one(database, "SELECT ticket, customer_phone FROM complaint "
                         "WHERE customer_phone != '' ORDER BY id LIMIT 1")
    return {
        "token": _one(database, window, 1),
        "closed_token": _one(database, window, 2),
        "handled_by_t1001": _one(database, f"{complaint} AND c.handler_id = "
                                 "(SELECT id FROM person WHERE work_no = 'T1001')"),
        "open_complaint": _one(database, f"{complaint} AND c.status = 'handling'"),
        "closed_complaint": _one(database, f"{complaint} AND c.status = 'closed'"),
        "ticket": ticket, "last_four": phone[-4:],
        "honour": _one(database, "SELECT h.id FROM honour h JOIN person p ON p.id = h.person_id "
                       "JOIN org_unit o ON o.id = p.org_unit_id WHERE o.code = 'ZJK-001' "
                       "AND h.status = 'proposed'"),
        "person": _one(database, "SELECT id FROM person WHERE work_no = 'T1002'"),
        "unit": _one(database, "SELECT id FROM org_unit WHERE code = 'ZJK-001'"),
        "day": _one(database, "SELECT s.day FROM checklist_sheet s JOIN org_unit o "
                    "ON o.id = s.outlet_id WHERE o.code = 'ZJK-001' ORDER BY s.day DESC"),
    }


# Pages beyond the role's navigation (its links are added by the test): details, tabs, forms.
EXTRA_PAGES = {
    "teller": ["/account/password", "/ledger/people/T1001", "/complaints/{handled_by_t1001}",
               "/complaints/desk", "/ratings/window/code", "/ratings/window/screen",
               "/ledger/rules"],
    "lobby": ["/ledger/people/L0001", "/complaints/{open_complaint}", "/complaints/intake",
              "/checklist/day/{day}", "/ratings/alerts", "/ratings/appeals", "/ratings/levels",
              "/ratings/proposals"],
    "manager": ["/ledger/people/T1001", "/ledger/proposals", "/ledger/new", "/ledger/rules",
                "/complaints/{open_complaint}", "/complaints/{closed_complaint}",
                "/complaints/intake", "/checklist/day/{day}", "/honours/nominate",
                "/honours/nominations/{honour}", "/scores/outlets/ZJK-001", "/ratings/alerts",
                "/ratings/appeals", "/ratings/levels", "/ratings/proposals",
                "/ratings/window/code"],
    "office": ["/ledger/people/T1001", "/ledger/proposals", "/ledger/new", "/ledger/rules/R08",
               "/complaints/{closed_complaint}", "/complaints/intake", "/checklist/day/{day}",
               "/checklist/template/1", "/honours/nominations/{honour}",
               "/scores/outlets/ZJK-001", "/scores/record", "/scores/subbranches",
               "/scores/settings", "/ratings/alerts", "/ratings/appeals", "/ratings/levels",
               "/ratings/proposals", "/ratings/qr?outlet=ZJK-001",
               "/ratings/outlet?outlet=ZJK-002"],
    "admin": ["/admin/units/new", "/admin/units/{unit}/edit", "/admin/people/new",
              "/admin/people/{person}", "/admin/people/{person}/edit",
              "/admin/people/{person}/password", "/admin/people?q=T10"],
}
ACCOUNTS = {"teller": "T1001", "lobby": "L0001", "manager": "M0001", "office": "S0001",
            "admin": "A0001"}


def _context(browser, viewport):
    """A context whose every page carries axe-core, loaded as an init script (the CSP stays)."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_init_script(path=str(AXE))
    return context


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; its violations, shortened for a message."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})", AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [", ".join(map(str, node["target"])) for node in v["nodes"]][:8],
             "summary": v["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]}
            for v in result["violations"]]


def test_the_axe_harness_reports_a_known_fault(browser):
    """The check is not vacuous: the vendored axe runs and names an image without alt text."""
    context = _context(browser, PHONE)
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                         '<h1>t</h1><img src="data:,"></main></body></html>')
        assert page.evaluate("axe.version") == "4.14.1"
        assert [v["id"] for v in axe_violations(page)] == ["image-alt"]
    finally:
        context.close()


DUPLICATE_IDS = """() => {
    const seen = {};
    for (const el of document.querySelectorAll('[id]:not(input[type=hidden])')) {
        seen[el.id] = (seen[el.id] || 0) + 1;
    }
    return Object.keys(seen).filter(id => seen[id] > 1);
}"""


def _check(page, label: str, found: dict, skip: dict | None = None) -> None:
    """Add the page's axe violations to ``found``, and its repeated ids: axe 4.14 reports an
    id repeated on the page (a label or aria reference then reaches only the first element) as
    "needs review" at most, so a repeated id is counted as a violation here (hidden inputs, such
    as each form's csrf_token, aside: nothing refers to them)."""
    violations = [v for v in axe_violations(page) if v["id"] not in (skip or {})]
    duplicates = page.evaluate(DUPLICATE_IDS)
    if duplicates:
        violations.append({"id": "duplicate-id", "impact": "serious", "targets": duplicates[:8],
                           "help": "ids must be unique", "summary": ""})
    if violations:
        found[label] = violations


def _report(found: dict) -> str:
    lines = []
    for where, violations in found.items():
        lines.append(f"\n{where}:")
        for v in violations:
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
            lines.append(f"      at {v['targets']}")
            lines.append(f"      {v['summary']}")
    return "\n".join(lines)


def _watch(page) -> list[str]:
    """Collect script errors and console errors (a CSP report included) of ``page``; a form
    refused with 4xx is logged as a failed resource by Chromium and is expected here."""
    errors: list[str] = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", console)
    return errors


def _visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"


def _sign_in(page, base: str, work_no: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("工号").fill(work_no)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(f"{base}/")


def _nav_paths(page, base: str) -> list[str]:
    hrefs = page.locator("nav[aria-label] .nav a").evaluate_all("links => links.map(a => a.href)")
    return [href.removeprefix(base) for href in hrefs]


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_main_page_of_each_staff_role_passes_axe(browser, demo_portal, sample, role):
    """Every page in the role's navigation, its detail pages and the error page: no violation."""
    base, _ = demo_portal
    context = _context(browser, HALL_PC)
    page = context.new_page()
    errors = _watch(page)
    try:
        _sign_in(page, base, ACCOUNTS[role])
        nav = _nav_paths(page, base)
        assert "/" in nav and len(nav) >= 3, nav
        paths = list(dict.fromkeys(nav + [p.format(**sample) for p in EXTRA_PAGES[role]]))
        found: dict = {}
        for path in paths:
            _visit(page, base + path)
            _check(page, path, found)
        page.goto(f"{base}/no-such-page")  # the error page, in the staff layout
        _check(page, "/no-such-page (404)", found)
        assert not found, f"axe violations for {role} ({len(paths)} pages):{_report(found)}"
        assert not errors, errors
    finally:
        context.close()


def test_every_customer_page_passes_axe(browser, demo_portal, sample):
    """The pages a customer sees without signing in, on a phone, in each of their states
    (form errors included); then the hall's honours screen on its full-HD TV."""
    base, _ = demo_portal
    context = _context(browser, PHONE)
    page = context.new_page()
    errors = _watch(page)
    found: dict = {}
    try:
        for path in ("/login", f"/r/{sample['closed_token']}", "/complaints/status",
                     f"/r/{sample['token']}", "/complaints/new"):
            _visit(page, base + path)
            _check(page, path, found)
            if path == f"/r/{sample['closed_token']}":
                assert "该窗口暂未开放评价" in page.locator("h1").inner_text()
        page.get_by_role("button", name="提交投诉").click()  # nothing filled in: the errors
        page.wait_for_selector(".form-error")
        _check(page, "/complaints/new (with errors)", found)
        page.get_by_label("投诉网点").select_option("ZJK-001")
        page.get_by_label("服务态度").check()
        page.get_by_label("投诉内容").fill("等候时间过长,无人引导。")
        page.get_by_label("联系电话").fill("13800001234")
        page.get_by_role("button", name="提交投诉").click()
        page.wait_for_url("**/complaints/thanks**")
        _check(page, "/complaints/thanks", found)

        _visit(page, f"{base}/r/{sample['token']}")
        page.get_by_role("button", name="提交评价").click()
        page.wait_for_selector(".form-error")
        _check(page, "/r/<token> (with errors)", found)
        page.get_by_role("radio", name="4 满意").check()
        page.get_by_role("button", name="提交评价").click()
        page.wait_for_url("**/thanks")
        _check(page, "/r/<token>/thanks", found)

        _visit(page, f"{base}/complaints/status")
        page.get_by_label("投诉单号").fill(sample["ticket"])
        page.get_by_label("联系电话后四位").fill(sample["last_four"])
        page.get_by_role("button", name="查询", exact=True).click()
        page.wait_for_selector("#result-title")
        _check(page, "/complaints/status (a complaint found)", found)

        _visit(page, f"{base}/login")
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector(".error")
        _check(page, "/login (with errors)", found)

        page.goto(f"{base}/honours/screen?outlet=NOPE")  # 404, in the hall screen's style
        _check(page, "/honours/screen?outlet=NOPE", found)
        for viewport in (PHONE, TV):  # the hall's TV, and its address opened on a phone
            page.set_viewport_size(viewport)
            for path in ("/honours/screen?outlet=ZJK-001", "/honours/screen"):
                _visit(page, base + path)
                _check(page, f"{path} at {viewport['width']} px", found, skip=SCREEN_EXEMPT)
        assert not found, f"axe violations on the customer's pages:{_report(found)}"
        assert not errors, errors
    finally:
        context.close()


OVERFLOW = """() => [...document.querySelectorAll('body *')].filter(el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width <= 1 || style.visibility === 'hidden') return false;  // .sr-only and the like
    const clipped = ['hidden', 'clip'].includes(style.overflowX)
        && el.scrollWidth > el.clientWidth + 1;
    return clipped || box.right > innerWidth + 0.5 || box.left < -0.5;
}).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
             + ' ' + (el.textContent || '').trim().slice(0, 30))"""


def _assert_fits_the_phone(page) -> None:
    """No sideways scrolling, nothing sticking out of the screen, no clipped text."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    assert page.evaluate(OVERFLOW) == [], page.url


TAP_TARGETS = "main button, main .button, main label.rate-star, main label.rate-tag, " \
              "main label.check"


def _assert_tappable(page, *required: str) -> None:
    """Every button and choice in the page's main part is visible and at least TOUCH×TOUCH;
    ``required`` (selectors) must each be among them."""
    for selector in required:
        assert page.locator(selector).count(), f"{page.url}: no {selector}"
    targets = page.locator(TAP_TARGETS)
    for index in range(targets.count()):
        target = targets.nth(index)
        box = target.bounding_box()
        name = target.inner_text().strip()[:20]
        assert target.is_visible() and box is not None, f"{page.url}: {name} is not visible"
        assert box["width"] >= TOUCH and box["height"] >= TOUCH, f"{page.url}: {name} {box}"


def test_the_customer_pages_work_on_a_360px_phone(phone, demo_portal, sample):
    """360×740: nothing wider than the screen, tap targets of 44×44 px at least, and the rating
    given with the keyboard alone, from the top of the page to the thank-you page."""
    base, database = demo_portal
    phone.goto(f"{base}/r/{sample['token']}")
    _assert_fits_the_phone(phone)
    _assert_tappable(phone, "label.rate-star", "label.rate-tag", "button.rate-submit")

    for _ in range(10):  # the keyboard only, from the top of the page
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.name") == "stars":
            break
    focused = phone.locator("label.rate-star:focus-within")
    assert focused.count() == 1, "Tab never reached the stars"
    assert focused.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    phone.keyboard.press("Space")
    phone.keyboard.press("ArrowDown")  # moves to the next star and chooses it
    chosen = int(phone.evaluate("document.querySelector('input[name=stars]:checked').value"))
    for _ in range(30):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.classList.contains('rate-submit')"):
            break
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/thanks")
    _assert_fits_the_phone(phone)
    _assert_tappable(phone, "main .button")
    with sqlite3.connect(database) as conn:
        stars, channel = conn.execute(
            "SELECT stars, channel FROM rating ORDER BY id DESC LIMIT 1").fetchone()
    assert (stars, channel) == (chosen, "qr")

    phone.get_by_role("link", name="我要投诉").click()
    phone.wait_for_url("**/complaints/new**")
    _assert_fits_the_phone(phone)
    _assert_tappable(phone, "label.rate-tag", "label.check", "button.rate-submit")
    for path in ("/complaints/status", f"/r/{sample['closed_token']}",
                 "/honours/screen?outlet=ZJK-001"):
        phone.goto(base + path)
        _assert_fits_the_phone(phone)
        _assert_tappable(phone)
