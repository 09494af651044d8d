"""Turning templates into answers: a whole page, or its partial for htmx, and redirects."""

from __future__ import annotations

import inspect
from typing import Any

import orjson
from jinja2 import Environment
from quart import Response, current_app, request

from stgy.web import context
from stgy.web.assets import asset_url
from stgy.web.i18n import current_language

# htmx 2 under our CSP: no inline indicator style, no eval, no scripts from answers;
# form errors (4xx) are swapped in like any answer, so the fields show them in place.
HTMX_CONFIG = orjson.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "4..", "swap": True},
            {"code": "...", "swap": False, "error": True},
        ],
    }
).decode()


_SYNC_ENV = "stgy.web.sync_jinja"


def templates() -> Environment:
    """The app's templates in a synchronous environment (an overlay of Quart's: the same
    loader, filters, globals and translations). No template awaits anything (what they
    show is fetched before), and the synchronous code Jinja compiles renders a page in
    about two thirds of the time of its async code."""
    env: Environment | None = current_app.extensions.get(_SYNC_ENV)
    if env is None:
        env = current_app.jinja_env.overlay(enable_async=False)
        current_app.extensions[_SYNC_ENV] = env
    return env


async def render_template(name: str, **values: Any) -> str:
    """A template rendered by the synchronous environment, with what the web blueprints'
    context processors add (values given win). Quart's app-wide processor (`g`,
    `request`, `session`, `config`, which no template reads) is left out: being
    synchronous, Quart would run it in a thread for each page."""
    extra: dict[str, Any] = {}
    processors = current_app.template_context_processors
    for name_ in reversed(request.blueprints):
        for processor in processors.get(name_, ()):
            found = processor()
            extra.update(await found if inspect.isawaitable(found) else found)
    extra.update(values)
    return templates().get_template(name).render(extra)


def is_htmx() -> bool:
    """A request htmx made in place (not a boosted or history-restore page load)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


async def render_page(
    template: str, *, partial: str | None = None, status: int = 200, **values: Any
) -> Response:
    """The page `template`, or `partial` alone when htmx asks for it in place."""
    viewer = await context.maybe_viewer()
    name = partial if partial is not None and is_htmx() else template
    body = await render_template(
        name,
        viewer=viewer,
        csrf_token=context.csrf_token(viewer),
        lang=current_language(),
        instance=await context.instance(),
        asset_url=asset_url,
        htmx_config=HTMX_CONFIG,
        **values,
    )
    return Response(body, status=status, mimetype="text/html")


def go_to(location: str) -> Response:
    """After a form succeeded: 303 for a browser, HX-Redirect for htmx (which would
    otherwise follow the redirect itself and swap the next page into the form)."""
    if is_htmx():
        response = Response("", status=200, mimetype="text/html")
        response.headers["HX-Redirect"] = location
        return response
    response = Response("", status=303)
    response.headers["Location"] = location
    return response


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site (no scheme, no host, no `//`), else
    `default`: a `next=` parameter must not send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 for c in target):
        return default
    return target
