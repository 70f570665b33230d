"""Profile one request of the bench in-process under pyinstrument; print the top frames.

    .venv/bin/python -m bench.profile --page home --role teller --ratings 1000000
    .venv/bin/python -m bench.profile --page rate --backend postgresql --ratings 0
    .venv/bin/python -m bench.profile --page home --role office --tree --lines 60

The database is the bench's own (bench/data.py): size 0 is seeded afresh, larger sizes come
from the cache (built first when missing) and are copied, so the profile sees what ``make
bench`` measures. The ten demo tellers open their windows as in the bench. ``--page home``
signs in as the role's demo account through /login and profiles GET / ``--requests`` times;
``--page rate`` profiles that many customer pairs (GET /r/<token>, POST the form with a
fresh phone cookie; the ten demo windows in turn, as in the bench). Requests go through
Flask's test client, so no network and no gunicorn are in the profile. The output is text:
by default the frames with the most time of their own (flat), ``--tree`` for the call tree;
paste before/after profiles into the CHANGELOG.
"""
import argparse
import logging
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .common import BACKENDS, DEMO_PASSWORD, ROLES, drop, parse_size, size_label


def _field(page: str, name: str) -> str:
    found = re.search(r'name="%s"[^>]*?value="([^"]*)"' % re.escape(name), page)
    if not found:
        raise RuntimeError(f"no {name} on the page")
    return found.group(1)


def home_requests(app, role: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    reply = client.post("/login", data={"work_no": ROLES[role], "password": DEMO_PASSWORD,
                                        "csrf_token": _field(page, "csrf_token")})
    if reply.status_code not in (302, 303):
        raise RuntimeError(f"{ROLES[role]} could not sign in: {reply.status_code}")

    def one():
        response = client.get("/")
        if response.status_code != 200:
            raise RuntimeError(f"GET / answered {response.status_code}")

    return one


def rate_requests(app, paths: list[str]):
    turn = iter(range(10**9))

    def one():
        path = paths[next(turn) % len(paths)]
        client = app.test_client()
        client.set_cookie("rid", secrets.token_urlsafe(16))
        page = client.get(path)
        posted = client.post(path, data={"csrf_token": _field(page.get_data(as_text=True),
                                                              "csrf_token"),
                                         "view_token": _field(page.get_data(as_text=True),
                                                              "view_token"),
                                         "stars": "5", "comment": "服务很好,谢谢"})
        if page.status_code != 200 or posted.status_code != 303:
            raise RuntimeError(f"rating: GET {page.status_code}, POST {posted.status_code}")

    return one


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=("home", "rate"), required=True)
    parser.add_argument("--role", choices=tuple(ROLES), default="teller")
    parser.add_argument("--ratings", default="1000000", help="0, 100k, 1M, 10M or a number")
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument("--requests", type=int, default=200,
                        help="requests (rate: GET+POST pairs) profiled (default 200)")
    parser.add_argument("--warm", type=int, default=10, help="unprofiled requests first")
    parser.add_argument("--lines", type=int, default=25, help="lines of output (default 25)")
    parser.add_argument("--tree", action="store_true", help="the call tree instead of the flat list")
    parser.add_argument("--interval", type=float, default=0.0005, help="sampling interval, s")
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from . import capture, data

    size = parse_size(args.ratings)
    folder = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    db = None
    try:
        db, _ = data.prepare(args.backend, size, folder)
        app = data.portal_app(db, folder / "instance")
        logging.getLogger("portal").setLevel(logging.ERROR)
        paths = [f"/r/{token}" for token in capture.open_windows(app)]
        one = home_requests(app, args.role) if args.page == "home" else rate_requests(
            app, paths)
        for _ in range(args.warm):
            one()
        profiler = Profiler(interval=args.interval)
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.requests):
            one()
        profiler.stop()
        seconds = time.perf_counter() - started
        what = (f"GET / as {args.role} ({ROLES[args.role]})" if args.page == "home"
                else "rating GET+POST pairs")
        print(f"{what}, {args.backend}, {size_label(size)} ratings ({data.rating_count(db):,} rows):"
              f" {args.requests} in {seconds:.2f} s = {seconds / args.requests * 1000:.2f} ms each"
              f" (in-process, under the profiler)")
        text = profiler.output_text(unicode=True, color=False, flat=not args.tree,
                                    show_all=False, short_mode=False)
        lines = [line for line in text.splitlines() if line.strip()]
        body = next((i + 1 for i, line in enumerate(lines) if line.startswith("Profile at")), 0)
        samples = re.search(r"Samples:\s+(\d+)", text)
        print(f"{'flat: seconds of own time' if not args.tree else 'call tree: seconds'} of the "
              f"top frames; {samples.group(1) if samples else '?'} samples every "
              f"{args.interval * 1000:g} ms")
        print("\n".join(lines[body:body + args.lines]))
        with app.app_context():
            data.dispose()
    finally:
        drop(db)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
