"""The Mastodon client API and its OAuth 2 server: the fourth face over the same domain
calls, answering with Mastodon's entities so that Mastodon apps work with stgy."""

from __future__ import annotations

from quart import Blueprint, Quart
from quart_schema import hide
from werkzeug.exceptions import HTTPException

from stgy.domain.errors import DomainError
from stgy.mastodon import (
    account_pages,
    accounts,
    apps,
    conversations,
    discovery,
    empty_lists,
    errors,
    filters,
    filters_v1,
    instance,
    instance_details,
    lists,
    markers,
    media,
    notifications,
    notifications_v2,
    oauth,
    openapi,
    ratelimit,
    relationships,
    reports,
    search,
    statuses,
    streaming,
    tags,
    timelines,
    unsupported,
)
from stgy.mastodon.cors import install_cors

# The parent of every Mastodon blueprint: its error handlers answer as Mastodon does.
bp = Blueprint("mastodon", __name__)
for child in (
    apps.bp,
    oauth.bp,
    instance.bp,
    instance_details.bp,
    accounts.bp,
    account_pages.bp,
    relationships.bp,
    notifications_v2.bp,
    notifications.bp,
    markers.bp,
    filters.bp,
    filters_v1.bp,
    media.bp,
    search.bp,
    reports.bp,
    lists.bp,
    empty_lists.bp,
    conversations.bp,
    statuses.bp,
    streaming.bp,
    tags.bp,
    timelines.bp,
    discovery.bp,
    unsupported.bp,
    openapi.bp,
):
    bp.register_blueprint(child)
bp.register_error_handler(DomainError, errors.domain_error)
bp.register_error_handler(HTTPException, errors.http_error)


def register(app: Quart) -> None:
    """Mount the Mastodon face on `app` (and CORS for every API, as Mastodon sets it)."""
    app.register_blueprint(bp)
    install_cors(app)
    ratelimit.install(app)
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith(f"{bp.name}."):
            hide(view)  # documented in docs/mastodon-api.md, not in the native OpenAPI
