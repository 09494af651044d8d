"""Writing a post: the composer on home and at `/compose` (a reply with `?in_reply_to=`).
Images are uploaded with the domain's media call, then attached by their ids, as an API
client does in two requests."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from quart import Blueprint, Response, current_app, request
from werkzeug.datastructures import FileStorage

from stgy.domain import posts
from stgy.domain.errors import DomainError
from stgy.domain.media import uploads
from stgy.domain.media.uploads import MAX_ATTACHMENTS
from stgy.domain.posts import VISIBILITIES, PostDraft
from stgy.http.validation import parse_cursor
from stgy.web import context, rendering
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.i18n import current_language
from stgy.web.post_pages import viewer_or_login
from stgy.web.rendering import go_to, local_path, render_page

bp = Blueprint("compose", __name__)

FIELDS = ("text", "summary", "visibility")
SLOTS = tuple(range(1, MAX_ATTACHMENTS + 1))


def composer_values(in_reply_to: str | None = None) -> dict[str, Any]:
    """What a blank composer shows (and what the templates need to draw one)."""
    return {
        "values": {
            "visibility": "public",
            "in_reply_to": in_reply_to or "",
            "allow_likes": "1",
            "allow_replies": "1",
        },
        "errors": FormErrors(),
        "post_length": context.config().limits.post_length,
        "visibilities": VISIBILITIES,
        "slots": SLOTS,
    }


_BLANK_KEY = "stgy.web.blank_composer"
# Stands for the CSRF token in the composer drawn once per language (markupsafe leaves
# NUL as it is; no token or text of a blank form contains it).
_TOKEN_SLOT = "\x00csrf\x00"  # noqa: S105 - a placeholder, not a secret


def blank_composer(csrf_token: str) -> Markup:
    """The home page's empty composer: drawn once per language and post length (it is
    the same for everyone but for the CSRF token, put in here), not for every page."""
    drawn: dict[tuple[str, int], str] = current_app.extensions.setdefault(_BLANK_KEY, {})
    values = composer_values()
    key = (current_language(), values["post_length"])
    html = drawn.get(key)
    if html is None:
        template = rendering.templates().get_template("partials/compose_form.html")
        html = template.render(csrf_token=_TOKEN_SLOT, **values)
        drawn[key] = html
    # The template escaped everything but the slot; the token is escaped here.
    return Markup(html.replace(_TOKEN_SLOT, str(escape(csrf_token))))  # noqa: S704


@bp.get("/compose")
async def compose_form() -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    reply_to = request.args.get("in_reply_to") or None
    parse_cursor(reply_to, "in_reply_to")
    return await render_page("pages/compose.html", **composer_values(reply_to))


def _images(files: Any, form: Any) -> list[tuple[FileStorage, str]]:
    chosen = []
    for slot in SLOTS:
        part: FileStorage | None = files.get(f"image{slot}")
        if part is not None and part.filename:
            chosen.append((part, form.get(f"alt{slot}", "").strip()))
    return chosen


@bp.post("/compose")
async def compose() -> Response:
    viewer = await viewer_or_login()
    if isinstance(viewer, Response):
        return viewer
    form = await request.form
    files = await request.files
    # A textarea sends its line breaks as CRLF; the server counts characters as the
    # composer's counter does, with LF line breaks.
    values = {name: form.get(name, "") for name in (*FIELDS, "in_reply_to", "next")}
    values["text"] = values["text"].replace("\r\n", "\n")
    for flag in ("sensitive", "allow_likes", "allow_replies"):
        values[flag] = "1" if form.get(flag) else ""
    services = context.services()
    if form.get("preview"):
        return await _preview(viewer.account_id, values)
    try:
        reply_to = parse_cursor(values["in_reply_to"] or None, "in_reply_to")
        media_ids = []
        for part, alt in _images(files, form):
            limit = services.config.limits.media_bytes
            found = await uploads.upload(
                services,
                viewer.account_id,
                uploads.Upload(
                    data=part.read(limit + 1),
                    declared_type=part.mimetype or None,
                    description=alt,
                ),
            )
            media_ids.append(str(found.id))
        await posts.create_post(
            services,
            viewer.account_id,
            PostDraft(
                text=values["text"],
                reply_to_id=reply_to,
                visibility=values["visibility"] or "public",
                summary=values["summary"].strip(),
                sensitive=bool(values["sensitive"]),
                allow_likes=bool(values["allow_likes"]),
                allow_replies=bool(values["allow_replies"]),
                media_ids=media_ids,
            ),
        )
    except DomainError as exc:
        return await render_page(
            "pages/compose.html",
            partial="partials/compose_form.html",
            status=exc.status,
            **{
                **composer_values(values["in_reply_to"]),
                "values": values,
                "errors": form_errors(exc, FIELDS),
            },
        )
    return go_to(local_path(values["next"]))


async def _preview(account_id: int, values: dict[str, str]) -> Response:
    """The text as it will show, mentions of known accounts linked (the domain's
    rendering for sending); images are chosen again after a preview without JavaScript
    (a file input cannot be filled in by the server)."""
    shown: dict[str, Any] = {**composer_values(values["in_reply_to"]), "values": values}
    status = 200
    try:
        shown["preview_html"] = await posts.preview_html(
            context.services(), account_id, values["text"]
        )
    except DomainError as exc:
        shown["errors"], status = form_errors(exc, FIELDS), exc.status
    return await render_page(
        "pages/compose.html", partial="partials/compose_form.html", status=status, **shown
    )
