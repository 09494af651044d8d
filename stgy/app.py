"""The Quart application factory: routes, error handling, request logs and metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

from quart import Quart, Request, Response, g, request
from quart_schema import QuartSchema
from werkzeug.exceptions import RequestEntityTooLarge

from stgy import __version__, mastodon, metrics, web
from stgy.activitypub import inbox, objects, wellknown
from stgy.api import (
    accounts,
    admin_accounts,
    admin_overview,
    agents,
    follows,
    instance_admin,
    mail,
    media,
    notifications,
    posts,
    reports,
    search,
    serializers,
    streaming,
    timelines,
)
from stgy.api.openapi import StgyOpenAPIProvider
from stgy.config import Config, load_config
from stgy.domain import auth, events, ratelimit  # noqa: F401 - registers the outbox handlers
from stgy.http import health
from stgy.http.context import CONFIG_KEY, PAGE_RENDERER_KEY, SERVICES_KEY, TOKEN_KEY, client_ip
from stgy.http.errors import error_response, register_error_handlers
from stgy.http.jsonprovider import OrjsonProvider
from stgy.logs import quote
from stgy.mastodon import media as mastodon_media
from stgy.mastodon import ratelimit as mastodon_ratelimit
from stgy.runtime import tune_gc
from stgy.services import Services

log = logging.getLogger("stgy.http")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_upload(path: str) -> bool:
    """A media upload's path: the native API's or the Mastodon API's."""
    return path == media.UPLOAD_PATH or path in mastodon_media.UPLOAD_PATHS


def body_limit(config: Config, method: str, path: str) -> int:
    """Bytes a request body may have: uploads take `limits.media_bytes`, the rest less."""
    if method == "POST" and is_upload(path):
        return config.limits.media_bytes + media.UPLOAD_OVERHEAD
    return config.limits.request_body_bytes


def request_class(config: Config) -> type[Request]:
    """Requests whose body limit depends on the route (Quart fixes it per app otherwise)."""

    class StgyRequest(Request):
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any):
            kwargs["max_content_length"] = body_limit(config, method, path)
            super().__init__(method, scheme, path, *args, **kwargs)
            self.max_content_length: int = kwargs["max_content_length"]

    return StgyRequest


def create_app(config: Config | None = None) -> Quart:
    config = config or load_config()
    app = Quart("stgy", static_folder=None)  # stgy/web/assets.py serves /static/
    app.request_class = request_class(config)
    app.config["MAX_CONTENT_LENGTH"] = config.limits.request_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.extensions[CONFIG_KEY] = config
    app.extensions[PAGE_RENDERER_KEY] = serializers.PAGE_RENDERER
    register_error_handlers(app)
    QuartSchema(
        app,
        openapi_path="/api/openapi.json",
        swagger_ui_path=None,  # stgy/web/api_docs.py serves it from our own files
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": f"stgy API ({config.instance.domain})", "version": __version__},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        security=[{"bearer": []}],
        openapi_provider_class=StgyOpenAPIProvider,
    )
    # After QuartSchema, which installs a provider of its own; we return plain dicts.
    app.json = OrjsonProvider(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(agents.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(admin_overview.bp)
    app.register_blueprint(admin_accounts.bp)
    app.register_blueprint(instance_admin.bp)
    app.register_blueprint(posts.bp)
    app.register_blueprint(follows.bp)
    app.register_blueprint(timelines.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(mail.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(streaming.bp)
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(objects.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(media.files_bp)
    web.register(app)
    mastodon.register(app)

    @app.before_serving
    async def start_services() -> None:
        services = await Services.start(config)
        app.extensions[SERVICES_KEY] = services
        app.extensions[TOKEN_KEY] = await auth.token_key(services)
        tune_gc()  # in each server process, once started

    @app.after_serving
    async def stop_services() -> None:
        services: Services | None = app.extensions.pop(SERVICES_KEY, None)
        if services is not None:
            await services.close()

    def too_large() -> str:
        limit = body_limit(config, request.method, request.path)
        uploading = is_upload(request.path)
        key = "limits.media_bytes" if uploading else "limits.request_body_bytes"
        return f"request body exceeds the limit of {limit} bytes ({key})"

    @app.errorhandler(RequestEntityTooLarge)
    async def body_too_large(exc: RequestEntityTooLarge) -> Response:
        # Raised while reading a body sent without (or with a false) Content-Length.
        return error_response(413, "request_entity_too_large", too_large())

    @app.before_request
    async def start_request() -> Response | None:
        g.started = time.perf_counter()
        length = request.content_length
        limit = request.max_content_length  # body_limit(), set by StgyRequest
        if length is not None and limit is not None and length > limit:
            return error_response(413, "request_entity_too_large", too_large())
        if mastodon_ratelimit.covers(request.path):
            # The Mastodon API counts its own limits and the write limit in one round trip.
            return await mastodon_ratelimit.check(app.extensions[SERVICES_KEY], client_ip())
        if request.method in _WRITES and request.path.startswith("/api/"):
            await ratelimit.count_write(app.extensions[SERVICES_KEY], client_ip())
        return None

    @app.after_request
    async def finish_request(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.observe_request(request.method, rule, str(response.status_code), elapsed)
        log.info(
            "method=%s path=%s route=%s status=%d ms=%.2f",
            request.method,
            quote(request.path),
            quote(rule),
            response.status_code,
            elapsed * 1000,
        )
        return response

    return app
