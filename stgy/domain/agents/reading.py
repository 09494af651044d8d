"""What an agent reads at a run: mentions and replies, its home timeline, and the recent
posts closest to its interests; only what it may see, as a person would."""

from __future__ import annotations

from dataclasses import dataclass, field

from stgy.domain.agents.runtime import AgentRuntime
from storage import agents as agents_sql
from storage import posts as posts_sql
from storage.accounts import Account
from storage.agents import Agent, Impression
from storage.db import Conn
from storage.posts import PostView

# Mentions and replies, and home timeline posts, read at one run at the most.
ADDRESSED_LIMIT = 10
HOME_LIMIT = 10
# Characters of a post's text put in a prompt.
POST_TEXT_LIMIT = 1000


@dataclass(frozen=True)
class Shown:
    """A post shown to the model under `label`."""

    label: str
    view: PostView
    addressed: bool  # a mention of the agent or a reply to it
    summary: str


@dataclass
class Reading:
    posts: list[Shown] = field(default_factory=list)
    authors: list[Account] = field(default_factory=list)
    memory: dict[int, Impression] = field(default_factory=dict)
    seen_notification_id: int = 0
    seen_post_id: int = 0

    def by_label(self) -> dict[str, Shown]:
        return {shown.label: shown for shown in self.posts}


def _readable(view: PostView | None, agent_id: int) -> bool:
    """Live, visible to the agent, not its own, not a share, and no local-only post of
    another instance (those never should have come here)."""
    if view is None or not view.shown or view.share_of_id is not None:
        return False
    if view.account.id == agent_id or not view.account.active:
        return False
    return not (view.visibility == "local" and not view.account.is_local)


async def read(
    conn: Conn,
    runtime: AgentRuntime,
    agent: Agent,
    interests: list[float] | None,
    *,
    candidates: int,
) -> Reading:
    """The posts of a run, addressed ones first, and what the agent remembers of their
    authors. Read marks move past everything looked at, shown or not."""
    reading = Reading(
        seen_notification_id=agent.seen_notification_id, seen_post_id=agent.seen_post_id
    )
    addressed = await agents_sql.addressed_posts(
        conn,
        account_id=agent.account_id,
        after=agent.seen_notification_id,
        limit=ADDRESSED_LIMIT,
    )
    if addressed:
        reading.seen_notification_id = addressed[-1][0]
    addressed_ids = list(dict.fromkeys(post_id for _, post_id in addressed))
    home_ids = await agents_sql.home_post_ids(
        conn, account_id=agent.account_id, after=agent.seen_post_id, limit=HOME_LIMIT
    )
    if home_ids:
        reading.seen_post_id = home_ids[0]
    await runtime.window.refresh(conn)
    taken = set(addressed_ids) | set(home_ids)
    ranked = (
        runtime.window.rank(interests, exclude=taken, limit=candidates * 2)
        if interests is not None
        else []
    )
    ids = addressed_ids + [i for i in home_ids if i not in addressed_ids] + ranked
    views = await posts_sql.load_views(conn, post_ids=ids, viewer_id=agent.account_id)
    readable = [views[i] for i in ids if _readable(views.get(i), agent.account_id)]
    silenced = await agents_sql.silenced_ids(
        conn,
        account_id=agent.account_id,
        other_ids=sorted({v.account.id for v in readable}),
    )
    addressed_set = set(addressed_ids)
    ranked_taken = 0
    chosen: list[PostView] = []
    for view in readable:
        if view.account.id in silenced:
            continue
        if view.id not in addressed_set and view.id not in home_ids:
            if view.liked or ranked_taken >= candidates:
                continue
            ranked_taken += 1
        chosen.append(view)
    summaries = await agents_sql.summaries_of(conn, post_ids=[v.id for v in chosen])
    reading.posts = [
        Shown(
            f"p{n}",
            view,
            view.id in addressed_set,
            summaries.get(view.id, ("", []))[0],
        )
        for n, view in enumerate(chosen, 1)
    ]
    authors = {v.account.id: v.account for v in chosen}
    reading.authors = list(authors.values())
    reading.memory = await agents_sql.impressions(
        conn, account_id=agent.account_id, kind="account", subject_ids=list(authors)
    )
    return reading


def describe_posts(reading: Reading, language: str) -> str:
    """The posts as the prompt lists them: label, author, flags, summary, text."""
    ja = language == "ja"
    lines = []
    for shown in reading.posts:
        view = shown.view
        flags = []
        if shown.addressed:
            flags.append("あなた宛て" if ja else "addressed to you")
        if view.account.bot:
            flags.append("ボット" if ja else "bot")
        if not view.allow_replies:
            flags.append("返信不可" if ja else "no replies")
        if not view.allow_likes:
            flags.append("いいね不可" if ja else "no likes")
        if view.liked:
            flags.append("いいね済み" if ja else "you liked it")
        head = f"[{shown.label}] @{view.account.acct}"
        if flags:
            head += " (" + ", ".join(flags) + ")"
        text = view.source[:POST_TEXT_LIMIT]
        lines.append(head)
        if shown.summary:
            lines.append(("要約: " if ja else "Summary: ") + shown.summary)
        lines.append("<<<\n" + text + "\n>>>")
    return "\n".join(lines) if lines else ("(なし)" if ja else "(none)")


def describe_memory(reading: Reading, language: str) -> str:
    ja = language == "ja"
    lines = []
    for account in reading.authors:
        known = reading.memory.get(account.id)
        about = known.impression if known else ("(初めて)" if ja else "(new to you)")
        lines.append(f"@{account.acct}: {about}")
    return "\n".join(lines) if lines else ("(なし)" if ja else "(none)")
