"""Discovery for other servers: WebFinger, host-meta and NodeInfo (outside the native API)."""

from __future__ import annotations

from typing import Any

import orjson
from quart import Blueprint, Response, request
from quart_schema import hide

from federation import nodeinfo as ni
from federation import webfinger as wf
from stgy.domain.errors import NotFound
from stgy.domain.remote import discovery
from stgy.http.context import config, services

bp = Blueprint("wellknown", __name__)


def _json(body: dict[str, Any], content_type: str) -> Response:
    return Response(orjson.dumps(body), content_type=content_type)


@bp.after_request
async def allow_any_origin(response: Response) -> Response:
    # RFC 7033 section 5: browser clients on other origins may query us.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/webfinger")
@hide
async def webfinger() -> Response:
    if not config().federation.enabled:
        raise NotFound("federation is disabled on this instance")
    jrd = await discovery.webfinger(
        services(), request.args.get("resource"), request.args.getlist("rel")
    )
    return _json(jrd, f"{wf.JRD_CONTENT_TYPE}; charset=utf-8")


@bp.get("/.well-known/host-meta")
@hide
async def host_meta() -> Response:
    return Response(
        discovery.host_meta(services()), content_type=f"{wf.XRD_CONTENT_TYPE}; charset=utf-8"
    )


@bp.get("/.well-known/nodeinfo")
@hide
async def nodeinfo_links() -> Response:
    return _json(discovery.nodeinfo_links(services()), "application/json")


@bp.get("/nodeinfo/2.1")
@hide
async def nodeinfo() -> Response:
    return _json(await discovery.nodeinfo(services()), ni.CONTENT_TYPE_21)
