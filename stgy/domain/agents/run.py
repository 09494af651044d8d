"""One run of an agent: read, ask the model what to do, act as a person would, remember.

Each action goes through the same domain call as a person's (create_post, like,
follow), so fan-out, federation, notifications, blocks and allow_replies/allow_likes
apply; the impression it came with is written in that action's transaction. The
limits against loops hold whatever the model says: no reply to a bot unless a person
mentioned the agent in that thread, one reply per thread per `ai.reply_cooldown`,
at most `ai.actions_per_run` actions a run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from stgy import metrics
from stgy.domain import follows, interactions, posts
from stgy.domain.agents import prompts
from stgy.domain.agents.model import Usage
from stgy.domain.agents.reading import Reading, Shown, describe_memory, describe_posts, read
from stgy.domain.agents.runtime import AgentRuntime, counted
from stgy.domain.agents.schemas import Decision
from stgy.domain.errors import DomainError, NotFound
from stgy.domain.text import normalise_tag
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import agents as agents_sql
from storage.agents import Agent
from storage.db import Conn

log = logging.getLogger("stgy.agents")

# Follow an author once the agent has liked this many of their posts.
FOLLOW_AFTER_LIKES = 2
MAX_IMPRESSION = 500
MAX_INTERESTS = 1000
MAX_INTEREST_TAGS = 10
# A reply is kept shorter than a post, so that a thread stays a conversation.
REPLY_SHARE = 2


@dataclass
class RunReport:
    handle: str
    read: int = 0
    did: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Budget:
    left: int
    threads: set[int] = field(default_factory=set)
    # (kind, subject id, impression) of what no action wrote: kept at the run's end.
    notes: list[tuple[str, int, str]] = field(default_factory=list)
    acted: set[tuple[str, int]] = field(default_factory=set)


def _reply_visibility(parent: str) -> str:
    """A reply is never seen by more people than the post it answers."""
    return parent if parent in ("direct", "followers", "unlisted", "local") else "public"


async def _remember_post(
    conn: Conn, agent_id: int, shown: Shown, impression: str, *, liked: bool
) -> None:
    await agents_sql.remember(
        conn,
        account_id=agent_id,
        kind="post",
        subject_id=shown.view.id,
        impression=impression[:MAX_IMPRESSION],
        liked=liked,
    )
    await agents_sql.remember(
        conn,
        account_id=agent_id,
        kind="account",
        subject_id=shown.view.account.id,
        impression="",
        liked=liked,
    )
    await agents_sql.add_action(conn, account_id=agent_id)


async def run_agent(
    services: Services, runtime: AgentRuntime, account_id: int, *, force: bool = False
) -> RunReport:
    """Drive one agent once (`force`: even when paused). StepFailed when a model call
    gave nothing usable: then nothing of that step was done."""
    config = services.config.ai
    async with services.pool.acquire() as conn:
        agent = await agents_sql.get_agent(conn, account_id=account_id)
        account = await accounts_sql.get_account(conn, account_id=account_id)
    if agent is None or account is None or not account.active:
        raise NotFound("no such agent")
    report = RunReport(agent.handle)
    if agent.paused and not force:
        report.skipped.append("paused")
        return report
    language = prompts.check_language(agent.language)

    interests = agent.interest_embedding
    if interests is None:
        # A new agent reads by its persona until it has interests of its own.
        vectors = await counted(
            services,
            agent=agent.handle,
            account_id=agent.account_id,
            step="embed_persona",
            call=runtime.model.embed([agent.persona]),
        )
        interests = vectors[0]

    async with services.pool.acquire() as conn:
        reading = await read(conn, runtime, agent, interests, candidates=config.candidates)
        last_post = await agents_sql.last_post_at(conn, account_id=agent.account_id)
    report.read = len(reading.posts)
    now = datetime.now(UTC)
    post_due = last_post is None or now - last_post >= timedelta(seconds=config.post_every)
    if not reading.posts and not post_due:
        await _finish(services, agent, reading, agent.interests, agent.interest_tags, None)
        report.skipped.append("nothing new")
        return report

    post_length = services.config.limits.post_length
    rule = "new_post_yes" if post_due else "new_post_no"
    system = prompts.fill(
        language,
        "decide_system",
        name=account.display_name or account.handle,
        handle=account.handle,
        instance=services.config.instance.domain,
        persona=agent.persona,
        reply_length=post_length // REPLY_SHARE,
        new_post_rule=prompts.fill(language, rule, post_length=post_length).strip(),
        tags_count=MAX_INTEREST_TAGS,
    )
    user = prompts.fill(
        language,
        "decide_user",
        interests=agent.interests or agent.persona,
        memory=describe_memory(reading, language),
        posts=describe_posts(reading, language),
    )
    decision: Decision = await counted(
        services,
        agent=agent.handle,
        account_id=agent.account_id,
        step="decide",
        call=_chat(runtime, system, user),
    )

    new_interests = decision.interests.strip()[:MAX_INTERESTS]
    new_tags = _tags(decision.interest_tags)
    embedding = None
    if new_interests and new_interests != agent.interests:
        vectors = await counted(
            services,
            agent=agent.handle,
            account_id=agent.account_id,
            step="embed_interests",
            call=runtime.model.embed([new_interests]),
        )
        embedding = vectors[0]
    elif agent.interest_embedding is None:
        new_interests, embedding = agent.persona[:MAX_INTERESTS], interests

    notes = await _act(services, agent, reading, decision, report, post_due=post_due)
    await _finish(services, agent, reading, new_interests, new_tags, embedding, notes)
    return report


async def _chat(runtime: AgentRuntime, system: str, user: str) -> tuple[Decision, Usage]:
    answer = await runtime.model.chat(system=system, user=user, schema=Decision, name="decision")
    return answer.value, answer.usage


def _tags(raw: list[str]) -> list[str]:
    tags = []
    for tag in raw:
        normal = normalise_tag(tag.strip().removeprefix("#"))
        if normal is not None and normal not in tags:
            tags.append(normal)
    return tags[:MAX_INTEREST_TAGS]


async def _act(
    services: Services,
    agent: Agent,
    reading: Reading,
    decision: Decision,
    report: RunReport,
    *,
    post_due: bool,
) -> list[tuple[str, int, str]]:
    """Do what the model chose, within the limits; the impressions left to write."""
    config = services.config.ai
    budget = _Budget(config.actions_per_run)
    labels = reading.by_label()
    # Mentions and replies first, then the rest in the order shown.
    order = {label: n for n, label in enumerate(labels)}
    choices = sorted(
        (c for c in decision.posts if c.post in labels),
        key=lambda c: (not labels[c.post].addressed, order[c.post]),
    )
    liked_authors: dict[int, int] = {}
    for choice in choices:
        shown = labels[choice.post]
        if choice.action == "reply":
            await _reply(services, agent, shown, choice.reply, choice.impression, budget, report)
        elif choice.action == "like":
            if await _like(services, agent, shown, choice.impression, budget, report):
                author = shown.view.account.id
                liked_authors[author] = liked_authors.get(author, 0) + 1
    by_acct = {a.acct.lower(): a for a in reading.authors}
    for account_choice in decision.accounts:
        target = by_acct.get(account_choice.account.strip().lstrip("@").lower())
        if target is None:
            continue
        if account_choice.follow:
            await _follow(
                services, agent, target.id, target.acct, account_choice.impression, budget, report
            )
        if ("account", target.id) not in budget.acted and account_choice.impression.strip():
            budget.notes.append(("account", target.id, account_choice.impression))
    for choice in choices:
        shown = labels[choice.post]
        if ("post", shown.view.id) not in budget.acted and choice.impression.strip():
            budget.notes.append(("post", shown.view.id, choice.impression))
    text = decision.new_post.strip()
    if text:
        if not post_due:
            report.skipped.append("new post: posted recently")
        else:
            await _post(services, agent, text, budget, report)
    return budget.notes


def _spend(budget: _Budget, report: RunReport, what: str) -> bool:
    if budget.left <= 0:
        report.skipped.append(f"{what}: actions_per_run reached")
        return False
    return True


def _count(agent: Agent, action: str, report: RunReport, line: str) -> None:
    metrics.AGENT_ACTIONS.labels(agent.handle, action).inc()
    report.did.append(line)
    log.info("agent_action agent=%s %s", agent.handle, line)


async def _reply(
    services: Services,
    agent: Agent,
    shown: Shown,
    text: str,
    impression: str,
    budget: _Budget,
    report: RunReport,
) -> None:
    view = shown.view
    what = f"reply to {view.id}"
    text = text.strip()
    if not text:
        report.skipped.append(f"{what}: empty")
        return
    if len(text) > services.config.limits.post_length // REPLY_SHARE:
        report.skipped.append(f"{what}: too long")
        return
    if not view.allow_replies:
        report.skipped.append(f"{what}: replies not allowed")
        return
    async with services.pool.acquire() as conn:
        thread = await agents_sql.thread_of(conn, post_id=view.id) or view.id
        if thread in budget.threads or await agents_sql.replied_recently(
            conn,
            account_id=agent.account_id,
            thread_id=thread,
            seconds=float(services.config.ai.reply_cooldown),
        ):
            report.skipped.append(f"{what}: replied in this thread within reply_cooldown")
            return
        if view.account.bot and not await agents_sql.person_mentioned(
            conn, account_id=agent.account_id, thread_id=thread
        ):
            report.skipped.append(f"{what}: a bot, and no person mentioned this agent here")
            return
    if not _spend(budget, report, what):
        return
    mention = f"@{view.account.acct}"
    if mention.lower() not in text.lower():
        text = f"{mention} {text}"
    draft = posts.PostDraft(
        text=text,
        reply_to_id=view.id,
        visibility=_reply_visibility(view.visibility),
        language=agent.language if len(agent.language) in (2, 3) else None,
    )

    async def remember(conn: Conn, post_id: int) -> None:
        await _remember_post(conn, agent.account_id, shown, impression, liked=False)

    try:
        created = await posts.create_post(services, agent.account_id, draft, also=remember)
    except DomainError as exc:
        report.skipped.append(f"{what}: {exc.detail}")
        return
    budget.left -= 1
    budget.threads.add(thread)
    budget.acted.add(("post", view.id))
    _count(agent, "reply", report, f"replied to {view.id} with {created.view.id}")


async def _like(
    services: Services,
    agent: Agent,
    shown: Shown,
    impression: str,
    budget: _Budget,
    report: RunReport,
) -> bool:
    view = shown.view
    what = f"like {view.id}"
    if view.liked:
        return False
    if not view.allow_likes:
        report.skipped.append(f"{what}: likes not allowed")
        return False
    if not _spend(budget, report, what):
        return False

    async def remember(conn: Conn) -> None:
        await _remember_post(conn, agent.account_id, shown, impression, liked=True)

    try:
        await interactions.like(services, agent.account_id, view.id, also=remember)
    except DomainError as exc:
        report.skipped.append(f"{what}: {exc.detail}")
        return False
    budget.left -= 1
    budget.acted.add(("post", view.id))
    _count(agent, "like", report, f"liked {view.id}")
    return True


async def _follow(
    services: Services,
    agent: Agent,
    target_id: int,
    acct: str,
    impression: str,
    budget: _Budget,
    report: RunReport,
) -> None:
    what = f"follow @{acct}"
    async with services.pool.acquire() as conn:
        if await agents_sql.following_ids(conn, account_id=agent.account_id, other_ids=[target_id]):
            return
        known = await agents_sql.impressions(
            conn, account_id=agent.account_id, kind="account", subject_ids=[target_id]
        )
    likes = known[target_id].likes if target_id in known else 0
    if likes < FOLLOW_AFTER_LIKES:
        report.skipped.append(
            f"{what}: liked {likes} of their posts (follows at {FOLLOW_AFTER_LIKES})"
        )
        return
    if not _spend(budget, report, what):
        return

    async def remember(conn: Conn) -> None:
        await agents_sql.remember(
            conn,
            account_id=agent.account_id,
            kind="account",
            subject_id=target_id,
            impression=impression[:MAX_IMPRESSION],
            liked=False,
        )
        await agents_sql.add_action(conn, account_id=agent.account_id)

    try:
        state = await follows.follow(services, agent.account_id, target_id, also=remember)
    except DomainError as exc:
        report.skipped.append(f"{what}: {exc.detail}")
        return
    budget.left -= 1
    budget.acted.add(("account", target_id))
    _count(agent, "follow", report, f"followed @{acct} ({state})")


async def _post(
    services: Services, agent: Agent, text: str, budget: _Budget, report: RunReport
) -> None:
    what = "new post"
    if len(text) > services.config.limits.post_length:
        report.skipped.append(f"{what}: too long")
        return
    if not _spend(budget, report, what):
        return

    async def remember(conn: Conn, post_id: int) -> None:
        await agents_sql.add_action(conn, account_id=agent.account_id)

    draft = posts.PostDraft(
        text=text, language=agent.language if len(agent.language) in (2, 3) else None
    )
    try:
        created = await posts.create_post(services, agent.account_id, draft, also=remember)
    except DomainError as exc:
        report.skipped.append(f"{what}: {exc.detail}")
        return
    budget.left -= 1
    _count(agent, "post", report, f"posted {created.view.id}")


async def _finish(
    services: Services,
    agent: Agent,
    reading: Reading,
    interests: str,
    tags: list[str],
    embedding: list[float] | None,
    notes: list[tuple[str, int, str]] | None = None,
) -> None:
    """The run's memory in one transaction: impressions of what was only read, the
    interests (when they changed) and the read marks."""
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            for kind, subject_id, impression in notes or []:
                await agents_sql.remember(
                    conn,
                    account_id=agent.account_id,
                    kind=kind,
                    subject_id=subject_id,
                    impression=impression.strip()[:MAX_IMPRESSION],
                    liked=False,
                )
            await agents_sql.finish_run(
                conn,
                account_id=agent.account_id,
                interests=interests,
                interest_tags=tags,
                interest_embedding=embedding,
                seen_notification_id=reading.seen_notification_id,
                seen_post_id=reading.seen_post_id,
            )
