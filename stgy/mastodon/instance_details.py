"""/api/v1/instance/*: the instance's rules, peers, extended description and public domain
blocks, as Mastodon apps show them (sign-up, reports, about pages); no weekly activity."""

from __future__ import annotations

from html import escape
from typing import Any

from quart import Blueprint, Response, jsonify

from stgy.domain import domain_blocks, instance_info, rules
from stgy.http.context import services
from stgy.mastodon.errors import RecordNotFound

bp = Blueprint("mastodon_instance_details", __name__, url_prefix="/api/v1/instance")


async def rule_entities() -> list[dict[str, Any]]:
    """The Rule entities, in order (also in the Instance entities)."""
    return [
        {"id": str(rule.id), "text": rule.text, "hint": "", "translations": {}}
        for rule in await rules.list_rules(services())
    ]


@bp.get("/rules", strict_slashes=False)
async def instance_rules() -> Response:
    return jsonify(await rule_entities())


@bp.get("/extended_description", strict_slashes=False)
async def extended_description() -> Response:
    about = await instance_info.about(services())
    # Ours is plain text; Mastodon sends HTML: one paragraph per blank-line block.
    paragraphs = [p.strip() for p in about.description.split("\n\n") if p.strip()]
    content = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return jsonify({"updated_at": None, "content": content})


@bp.get("/peers", strict_slashes=False)
async def peers() -> Response:
    return jsonify(await instance_info.peer_domains(services()))


@bp.get("/activity", strict_slashes=False)
async def activity() -> Response:
    # Mastodon answers 404 when its admins turn the activity API off; stgy keeps no
    # weekly figures, so it answers as such a server does.
    raise RecordNotFound()


@bp.get("/domain_blocks", strict_slashes=False)
async def blocked_domains() -> Response:
    shown = await domain_blocks.public_blocks(services())
    if shown is None:
        raise RecordNotFound()  # as Mastodon answers when the admins keep them private
    return jsonify(
        [
            {
                "domain": block.domain,
                "digest": block.digest,
                "severity": block.severity,
                "comment": block.comment or None,
            }
            for block in shown
            if block.severity != "noop"
        ]
    )
