"""Finding accounts: familiar followers; and the discovery features stgy does not keep
(suggestions, endorsements, featured tags, the directory), answered as a Mastodon server
with none of them would."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain import discovery
from stgy.domain.errors import Invalid
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import account_entity
from stgy.mastodon.params import id_param, list_param, read_params

bp = Blueprint("mastodon_discovery", __name__, url_prefix="/api")

MAX_ACCOUNTS = 40


@bp.get("/v1/accounts/familiar_followers", strict_slashes=False)
@scoped("read:follows")
async def familiar_followers() -> Response:
    given = list_param(await read_params(), "id")
    if len(given) > MAX_ACCOUNTS:
        raise Invalid("id", f"at most {MAX_ACCOUNTS} ids")
    ids = list(dict.fromkeys(id_param(raw, "id") for raw in given))
    found = await discovery.familiar_followers(services(), current_viewer().account_id, ids)
    base_url = config().instance.base_url
    return jsonify(
        [
            {"id": str(target), "accounts": [account_entity(a, base_url, None) for a in who]}
            for target, who in found.items()
        ]
    )


@bp.get("/v1/suggestions", strict_slashes=False)
@bp.get("/v2/suggestions", strict_slashes=False)
@bp.get("/v1/endorsements", strict_slashes=False)
@bp.get("/v1/featured_tags", strict_slashes=False)
@bp.get("/v1/featured_tags/suggestions", strict_slashes=False)
@scoped("read")
async def not_kept() -> Response:
    return jsonify([])


@bp.get("/v1/accounts/<account_id>/featured_tags", strict_slashes=False)
@bp.get("/v1/accounts/<account_id>/endorsements", strict_slashes=False)
async def account_not_kept(account_id: str) -> Response:
    id_param(account_id, "id")
    return jsonify([])


@bp.get("/v1/directory", strict_slashes=False)
async def directory() -> Response:
    return jsonify([])
