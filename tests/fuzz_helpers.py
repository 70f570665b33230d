"""Shared pieces of the fuzz tests (issue 7, "Bad input"): hostile text, odd request bodies and
a one-query snapshot of every table's row count to prove a refused request wrote nothing.

Hypothesis runs derandomized (the same examples on every run, in CI too), keeps no example
database and its caches in the temporary folder: nothing is written into the work tree.
"""
import io
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import func, select

from portal.extensions import db

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "portal-hypothesis")

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

#: inputs that broke or could break something somewhere, tried first and mixed into the rest
SPECIAL = (
    "", " ", "\x00", "T1001\x00", "a\x00b", "\x01\x08\x1b\x7f", "\t", "\r\n", "\n\n\n", "\u2028",
    "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "مرحبا", "😀👍🏽🇨🇳", "\U0001F4A9" * 60,
    "１２３４", "５", "٣", "𝟓", "Ⅴ", "\ufeffBOM", "\u00a0\u3000", "\u0301", "Ａ０００１",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{7*7}}", "${jndi:x}",
    "=cmd|' /C calc'!A0", "+1+1", "@SUM(1+1)", "-2+3", "' OR '1'='1", "%00", "%s%n", "../../x",
    "null", "NaN", "1e309", "-1", "0", "99999999999999999999", "x" * 5001, "中" * 501, "a" * 65,
)

RAW_MARKUP = (b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>")

nasty = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=200),
)


def with_valid(*values: str):
    """Mostly good values (so that the request gets past the first check), sometimes nasty."""
    return st.one_of(st.sampled_from(values), st.sampled_from(values), nasty)


@st.composite
def mutated(draw, valid: dict[str, tuple[str, ...]], most: int = 3):
    """A form's fields with good values, up to ``most`` of them replaced by hostile ones: nasty
    text, several values, or none (the field left out)."""
    fields = {name: draw(st.sampled_from(values)) for name, values in valid.items()}
    for name in draw(st.lists(st.sampled_from(sorted(valid)), max_size=most, unique=True)):
        fields[name] = draw(st.one_of(nasty, st.none(), st.lists(nasty, max_size=3)))
    return fields


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)

#: how a form's fields travel: as a browser sends them, or in a body the form doesn't take
BODIES = ("form", "multipart", "file", "json", "json-any", "text", "query")
bodies = st.one_of(st.just("form"), st.sampled_from(BODIES))  # half of them as a browser sends


def send(client, url: str, fields: dict, body: str, data=None):
    """POST ``fields`` (values: str or list of str) to ``url`` in the ``body`` shape; ``data``
    is a hypothesis ``data()`` object for the choices some shapes make. The answers are counted
    in hypothesis' statistics (``pytest --hypothesis-show-statistics``)."""
    response = _send(client, url, fields, body, data)
    event(f"{body}: {response.status_code}")
    for markup in RAW_MARKUP:  # a form shown again escapes what was typed
        assert markup not in response.data, markup
    return response


def _send(client, url: str, fields: dict, body: str, data):
    # several values as a list (werkzeug's test client would take a tuple for a file)
    pairs = {key: list(value) if isinstance(value, tuple) else value
             for key, value in fields.items() if value is not None}
    if body == "form":
        return client.post(url, data=pairs)
    if body == "multipart":
        return client.post(url, data=pairs, content_type="multipart/form-data")
    if body == "file":  # a file where a text field is expected
        names = sorted(pairs) or ["x"]
        name = data.draw(st.sampled_from(names), label="file field") if data else names[0]
        upload = (io.BytesIO(data.draw(st.binary(max_size=200)) if data else b"x"), "a.txt")
        return client.post(url, data={**pairs, name: upload}, content_type="multipart/form-data")
    if body == "json":
        return client.post(url, json=pairs)
    if body == "json-any":  # any JSON document: a list, a number, fields holding objects
        document = data.draw(st.one_of(json_values, st.dictionaries(
            st.sampled_from(sorted(pairs) or ["x"]), json_values)), label="json") if data else []
        return client.post(url, json=document)
    if body == "text":
        return client.post(url, data=urlencode(pairs, doseq=True), content_type="text/plain")
    if body == "query":  # the fields in the query string, an empty body
        return client.post(f"{url}?{urlencode(pairs, doseq=True)}")
    raise ValueError(body)


def path_part(text: str) -> str:
    """``text`` escaped for one segment of a URL path."""
    return quote(text, safe="")


def table_counts() -> dict[str, int]:
    """The number of rows of every table, in one query."""
    tables = list(db.metadata.sorted_tables)
    counts = select(*[select(func.count()).select_from(table).scalar_subquery().label(f"c{i}")
                      for i, table in enumerate(tables)])
    row = db.session.execute(counts).one()
    db.session.rollback()  # end the read transaction; the next request starts afresh
    return {table.name: value for table, value in zip(tables, row)}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    """The tables whose row count differs: name → (before, after)."""
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}
