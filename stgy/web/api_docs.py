"""/api/docs: Swagger UI over /api/openapi.json, from our own files (npm's swagger-ui-dist).

Not from a CDN: the page works offline and under a strict CSP, with no inline script
(stgy/web/static/api-docs.js starts it).
"""

from __future__ import annotations

from quart import Blueprint, Response

from stgy.web.rendering import render_page

bp = Blueprint("api_docs", __name__)

# Swagger UI sets no style attribute and adds no <style> element (its browser test checks
# that no CSP violation is logged); its stylesheet draws icons with data: SVG images.
API_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


@bp.get("/api/docs")
async def api_docs() -> Response:
    response = await render_page("pages/api_docs.html")
    response.headers["Content-Security-Policy"] = API_DOCS_POLICY
    return response
