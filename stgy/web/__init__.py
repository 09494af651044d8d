"""The web face: server-rendered pages for the instance's people (Jinja2, htmx, our CSS)."""

from __future__ import annotations

import logging

from quart import Blueprint, Quart, Response, request
from quart_schema import hide

from stgy.domain import ratelimit
from stgy.domain.errors import DomainError, RateLimited
from stgy.http.streaming import track_streams
from stgy.logs import quote
from stgy.web import (
    action_bar,
    admin_account_pages,
    admin_instance_pages,
    admin_report_pages,
    api_docs,
    assets,
    auth_pages,
    compose_pages,
    context,
    error_pages,
    feed_pages,
    follow_request_pages,
    i18n,
    image_proxy,
    interaction_pages,
    live_pages,
    mail_pages,
    notification_pages,
    oauth_pages,
    pages,
    post_cards,
    post_edit_pages,
    post_pages,
    profile_pages,
    report_pages,
    search_pages,
    security,
    settings_account_pages,
    settings_apps_pages,
    settings_pages,
    timeline_pages,
)
from stgy.web.rendering import is_htmx, render_page

log = logging.getLogger("stgy.web")

# The parent of every web blueprint: its hooks (language, CSRF, headers) apply to them all
# and to nothing else, so the API and the inboxes keep their own rules.
bp = Blueprint("web", __name__, template_folder="templates")
bp.register_blueprint(pages.bp)
bp.register_blueprint(auth_pages.bp)
bp.register_blueprint(mail_pages.bp)
bp.register_blueprint(settings_pages.bp)
bp.register_blueprint(settings_account_pages.bp)
bp.register_blueprint(settings_apps_pages.bp)
bp.register_blueprint(oauth_pages.bp)
bp.register_blueprint(notification_pages.bp)
bp.register_blueprint(api_docs.bp)
# Every page of a member shows their unread count in the header.
bp.context_processor(notification_pages.unread_badge)
bp.register_blueprint(timeline_pages.bp)
bp.register_blueprint(post_pages.bp)
bp.register_blueprint(post_edit_pages.bp)
bp.register_blueprint(compose_pages.bp)
bp.register_blueprint(live_pages.bp)
# Before the profiles and tags: /@alice.rss is a feed, not the account "alice.rss".
bp.register_blueprint(feed_pages.bp)
bp.register_blueprint(profile_pages.bp)
bp.register_blueprint(follow_request_pages.bp)
bp.register_blueprint(search_pages.bp)
bp.register_blueprint(interaction_pages.bp)
bp.register_blueprint(report_pages.bp)
bp.register_blueprint(admin_report_pages.bp)
bp.register_blueprint(admin_account_pages.bp)
bp.register_blueprint(admin_instance_pages.bp)


@bp.before_request
async def guard_request() -> Response | None:
    # The viewer is read once per request anyway (every page renders for it).
    viewer = await context.maybe_viewer()
    i18n.choose_language(viewer.language if viewer is not None else None)
    if request.method in security.SAFE_METHODS:
        return None
    failure = await security.csrf_failure()
    if failure is not None:
        log.info("csrf_refused path=%s why=%s", quote(request.path), quote(failure))
        return await _csrf_refused()
    # Forms write as the API does: the same per-address limit on writes.
    await ratelimit.count_write(context.services(), context.client_ip())
    return None


async def _csrf_refused() -> Response:
    response = await render_page(
        "pages/error.html", partial="partials/error_message.html", status=403, error="csrf"
    )
    if is_htmx():
        # Shown in the page's alert area, not in place of the form that was sent.
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.after_request
async def finish_response(response: Response) -> Response:
    return security.finish_response(response)


@bp.errorhandler(DomainError)
async def domain_error(exc: DomainError) -> Response:
    """A domain error no form caught (a missing account...): an HTML page, its status."""
    response = await render_page("pages/error.html", status=exc.status, error=exc.error)
    if isinstance(exc, RateLimited) and isinstance(exc.detail, dict):
        response.headers["Retry-After"] = str(exc.detail.get("retry_after", 60))
    return response


def register(app: Quart) -> None:
    """Mount the web face on `app`."""
    i18n.install(app)
    track_streams(app)  # /stream counts with the API's open streams
    context.install_html_error_page(app, error_pages.error_page)
    app.jinja_env.filters["post_time"] = post_cards.post_time
    # Media URLs as pages load them: remote images through our signed proxy.
    app.jinja_env.filters["media_src"] = image_proxy.media_src
    app.jinja_env.filters["media_in_html"] = image_proxy.media_in_html
    app.jinja_env.globals["action_bar"] = action_bar.action_bar
    app.jinja_env.globals["action_bars"] = action_bar.ActionBars
    app.jinja_env.globals["post_article"] = post_cards.post_article
    app.jinja_env.globals["post_articles"] = post_cards.post_articles
    app.register_blueprint(bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(image_proxy.bp)
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith((f"{bp.name}.", f"{assets.bp.name}.", f"{image_proxy.bp.name}.")):
            hide(view)  # pages, not API: kept out of /api/openapi.json
    missing = assets.vendor_missing()
    if missing:
        log.warning(
            "web_assets_missing=%s hint=run_npm_ci_for_in-place_behaviour", ",".join(missing)
        )
