"""htmx helpers: tell htmx requests apart and answer with a fragment or the whole page."""
from flask import g, make_response, render_template, request


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment (not a boosted navigation or history restore).

    Asking means the answer branches on it, so the response gets ``Vary: HX-Request``
    (``portal.security`` adds it to whatever is answered, page, fragment or redirect)."""
    g.varies_on_htmx = True
    headers = request.headers
    return (headers.get("HX-Request") == "true" and not headers.get("HX-Boosted")
            and not headers.get("HX-History-Restore-Request"))


def render_page_or_partial(page: str, partial: str, **context):
    """Render ``partial`` for htmx requests and ``page`` otherwise, with ``Vary: HX-Request``."""
    response = make_response(render_template(partial if is_htmx() else page, **context))
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str):
    """Answer an htmx request with a client-side redirect."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = location
    return response
