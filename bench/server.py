"""gunicorn servers, wrk runs and a small HTTP client for the bench (127.0.0.1 only)."""
import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

from .common import BIN, ROOT, SECRET

WRK_DIR = Path(__file__).resolve().parent / "wrk"
WORKERS = 2
NETWORK_ERRORS = (OSError, http.client.HTTPException)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn (2 sync workers) in its own process group; the same settings for every app."""

    def __init__(self, app: str, env: dict, log: Path):
        self.app, self.log = app, log
        self.env = {**os.environ, "SECRET_KEY": SECRET, "PYTHONDONTWRITEBYTECODE": "1", **env}
        self.env.pop("RATELIMIT_STORAGE_URI", None)
        self.port = free_port()
        self.proc = None

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, wait: float = 90) -> float:
        started = time.perf_counter()
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--worker-class", "sync",
                 "--timeout", "120", "--bind", f"127.0.0.1:{self.port}", self.app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        while time.perf_counter() - started < wait:
            try:
                if Http(self.port).call("GET", "/healthz").status == 200:
                    return time.perf_counter() - started
            except NETWORK_ERRORS:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited with {self.proc.returncode}; "
                                   f"see {self.log}:\n{tail(self.log)}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gunicorn {self.app} did not answer in {wait} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Reply:
    def __init__(self, status: int, headers, body: str):
        self.status, self.headers, self.body = status, headers, body


class Http:
    """One connection per request (gunicorn's sync workers close them), with a cookie jar."""

    def __init__(self, port: int, timeout: float = 120):
        self.port, self.timeout, self.cookies = port, timeout, {}

    def call(self, method: str, path: str, form: dict | None = None) -> Reply:
        body = urlencode(form).encode() if form is not None else None
        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(response.status, response.headers, data.decode("utf-8", "replace"))

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def field(page: str, name: str) -> str | None:
    found = re.search(r'name="%s"[^>]*?value="([^"]*)"' % re.escape(name), page)
    return html.unescape(found.group(1)) if found else None


def sign_in(port: int, work_no: str, password: str) -> Http:
    """Sign in through the real /login form; the client then carries the session cookie."""
    client = Http(port)
    page = client.call("GET", "/login")
    reply = client.call("POST", "/login", {"work_no": work_no, "password": password,
                                           "csrf_token": field(page.body, "csrf_token") or ""})
    if reply.status not in (302, 303) or "portal_session" not in client.cookies:
        raise RuntimeError(f"{work_no} could not sign in: {reply.status}")
    return client


def wrk(script: str, url: str, args: list[str], connections: int, seconds: float,
        timeout_s: float = 60) -> dict:
    """Run wrk with ``connections`` threads of one connection each; the script's JSON."""
    seconds = max(1, round(seconds))  # wrk takes whole seconds
    command = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", f"{timeout_s:g}s", "-s", str(WRK_DIR / script), url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120,
                          check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON "):])
    raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n"
                       f"{done.stderr}")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def combine(runs: list[dict]) -> dict:
    """Several wrk runs of one script as one: counts summed, latencies pooled."""
    total: dict = {"runs": len(runs)}
    latencies: list[float] = []
    for run in runs:
        latencies += run.get("lat_ms", [])
        for key, value in run.items():
            if key == "lat_ms":
                continue
            if isinstance(value, dict):
                merged = total.setdefault(key, {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
            elif isinstance(value, (int, float)):
                total[key] = total.get(key, 0) + value
    seconds = total.get("duration_s") or 0
    if "pairs_ok" in total:
        total["pairs_per_s"] = total["pairs_ok"] / seconds if seconds else 0
        total["pair_p50_ms"] = percentile(latencies, 0.50)
        total["pair_p99_ms"] = percentile(latencies, 0.99)
        for key in ("request_p50_ms", "request_p99_ms"):
            total[key] = max(run.get(key, 0) for run in runs)  # per run only: the worst
    else:
        total["per_s"] = total["ok"] / seconds if seconds else 0
        total["body_bytes"] = total["bytes"] / total["ok"] if total.get("ok") else 0
        total["p50_ms"] = percentile(latencies, 0.50)
        total["p99_ms"] = percentile(latencies, 0.99)
    return total


def alternate(sides: dict, seconds: float, warm: float, rounds: int, connections: int) -> dict:
    """Measure each side (name -> (script, url, args)) for ``seconds`` in all, in ``rounds``
    alternating runs after one warm-up each, so that a change in the machine's load
    falls on both sides of a ratio alike. Each side's result carries ``warm_up`` (the
    warm-up's counts, without latencies)."""
    warm_ups = {}
    for name, (script, url, args) in sides.items():
        if warm > 0:
            run = wrk(script, url, args, connections, warm)
            run.pop("lat_ms", None)
            warm_ups[name] = run
    runs: dict[str, list] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, (script, url, args) in sides.items():
            runs[name].append(wrk(script, url, args, connections, seconds / rounds))
    return {name: {**combine(found), "warm_up": warm_ups.get(name)}
            for name, found in runs.items()}


def socket_errors(run: dict) -> int:
    errors = run.get("errors", {})
    return sum(errors.get(k, 0) for k in ("connect", "read", "write", "timeout"))


def failures(run: dict) -> int:
    """Responses other than 2xx/3xx (a page: other than 200), socket errors and timeouts."""
    if "failed" in run:
        return run["failed"] + socket_errors(run)
    return (sum(n for code, n in run.get("statuses", {}).items() if int(code) >= 400)
            + socket_errors(run))


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]), idle


def _process_times() -> dict[int, tuple[str, int]]:
    """(name, user+system ticks) of every process."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                text = fh.read()
        except OSError:
            continue
        name = text[text.find("(") + 1:text.rfind(")")]
        fields = text[text.rfind(")") + 2:].split()
        found[int(entry.name)] = (name, int(fields[11]) + int(fields[12]))
    return found


def cpu_busy(seconds: float = 1.0, top: int = 0) -> tuple[float, list[str]]:
    """The machine's CPU busy share over ``seconds`` (0-1), and the ``top`` processes by
    CPU used meanwhile ("name pid: share")."""
    before = _process_times() if top else {}
    total0, idle0 = _cpu_times()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    leaders = []
    if top:
        ticks = os.sysconf("SC_CLK_TCK") * seconds * (os.cpu_count() or 1)
        after = _process_times()
        used = sorted(((t - before[pid][1], name, pid) for pid, (name, t) in after.items()
                       if pid in before), reverse=True)[:top]
        leaders = [f"{name} {pid}: {delta / ticks:.0%}" for delta, name, pid in used if delta]
    return busy, leaders


class Quiet:
    """Before a measurement, while the bench itself is idle: wait (within a budget for the
    whole run) until other processes leave the CPU mostly free, and say how busy it was."""

    def __init__(self, limit: float = 0.25, patience: float = 45, budget: float = 180):
        self.limit, self.patience, self.budget = limit, patience, budget

    def wait(self) -> dict:
        started = time.perf_counter()
        busy, leaders = cpu_busy(1.0, top=3)
        first, first_leaders = busy, leaders
        while busy > self.limit and self.budget > 0 and \
                time.perf_counter() - started < self.patience:
            busy, leaders = cpu_busy(2.0, top=3)
            self.budget -= 2.0
        return {"busy_before": round(first, 2), "busy_at_start": round(busy, 2),
                "waited_s": round(time.perf_counter() - started, 1),
                "busy": busy > self.limit, "top_before": first_leaders, "top_at_start": leaders}
