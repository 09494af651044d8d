"""SQL fragments the timeline reads share: what a viewer may see of a post, the joins
that go with it, and the two orders every page comes in."""

from __future__ import annotations

# What a logged-in viewer ($1) may see of `p`: live posts of active accounts that
# stgy_can_see allows (which also refuses across blocks), the same for a shared
# original, and nothing by an account the viewer muted (a muted author's shares
# and other people's shares of the muted author's posts alike). Fan-out and backfill
# write with this filter.
VIEWER_FILTER = (
    " p.deleted_at IS NULL AND pa.suspended_at IS NULL AND pa.deleted_at IS NULL"
    " AND stgy_can_see(p.account_id, p.visibility, p.id, $1)"
    " AND (p.share_of_id IS NULL OR (o.deleted_at IS NULL"
    "  AND stgy_can_see(o.account_id, o.visibility, o.id, $1)))"
    " AND ($1::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1"
    "  AND (mu.target_id = p.account_id OR mu.target_id = o.account_id)))"
)
POST_JOINS = " JOIN accounts pa ON pa.id = p.account_id LEFT JOIN posts o ON o.id = p.share_of_id"

# Pages read with the same rule, made cheap per row: the accounts the viewer blocked,
# is blocked by or muted are gathered once per page (`hidden`, joined as `h`), so only
# posts that are not public-ish still need stgy_can_see (followers-only and direct
# ones: follows and mentions). A post of an account in `h` is never shown, and
# stgy_can_see itself is true for anything public, unlisted or local not across a block.
HIDDEN = (
    "hidden AS (SELECT coalesce(array_agg(x.id), '{}') AS ids FROM ("
    " SELECT target_id FROM blocks WHERE account_id = $1"
    " UNION ALL SELECT account_id FROM blocks WHERE target_id = $1"
    " UNION ALL SELECT target_id FROM mutes WHERE account_id = $1) x(id))"
)
PAGE_JOINS = POST_JOINS + " CROSS JOIN hidden h"
PUBLICISH = " IN ('public', 'unlisted', 'local')"
READ_FILTER = (
    " p.deleted_at IS NULL AND pa.suspended_at IS NULL AND pa.deleted_at IS NULL"
    " AND p.account_id <> ALL(h.ids) AND (p.visibility" + PUBLICISH + " OR p.account_id = $1"
    "  OR stgy_can_see(p.account_id, p.visibility, p.id, $1))"
    " AND (p.share_of_id IS NULL OR (o.id IS NOT NULL AND o.deleted_at IS NULL"
    "  AND o.account_id <> ALL(h.ids) AND (o.visibility" + PUBLICISH + " OR o.account_id = $1"
    "  OR stgy_can_see(o.account_id, o.visibility, o.id, $1))))"
)

# Every page read comes in two orders: newest first (the posts just below `until`), and
# oldest first (the posts just above `since`: a Mastodon client's min_id, paging towards
# newer). Each read builds both once, from constant parts; the domain layer shows the
# oldest-first selection newest first.
ORDERS = (" DESC", " ASC")


def order(ascending: bool) -> str:
    """The ORDER BY direction of a page read."""
    return ORDERS[1] if ascending else ORDERS[0]
