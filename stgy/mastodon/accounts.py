"""GET /api/v1/accounts/verify_credentials and /api/v1/preferences: the person behind the token."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from stgy.domain.own_account import own_account
from stgy.http.context import config, services
from stgy.mastodon.auth import current_viewer, scoped
from stgy.mastodon.entities import credential_account_entity

bp = Blueprint("mastodon_accounts", __name__, url_prefix="/api/v1")


@bp.get("/accounts/verify_credentials", strict_slashes=False)
@scoped("profile", "read:accounts")
async def verify_credentials() -> Response:
    viewer = current_viewer()
    own = await own_account(
        services(), viewer.account_id, role=viewer.role, language=viewer.language
    )
    return jsonify(credential_account_entity(own, config().instance.base_url))


@bp.get("/preferences", strict_slashes=False)
@scoped("read:accounts")
async def preferences() -> Response:
    # No per-person posting defaults yet: what a new post gets when it says nothing.
    return jsonify(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )
