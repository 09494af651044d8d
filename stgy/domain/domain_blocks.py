"""Domain blocks (issue 17), with Mastodon's severities: `noop` (only the flags),
`silence` (its posts leave the public timelines; followers still get them), `suspend`
(refuse its activities and fetches, deliver nothing to it, cut follows both ways and
drop its posts from our timelines), plus `reject_media` (its media is neither cached
nor proxied) and `reject_reports` (its Flags are dropped). A block covers the domains
below it. Admins only; every change writes an audit row in its transaction.

A `suspend` block keeps `instances.blocked` set for its domain: the inbox, signed
fetches and delivery already refuse on that flag (storage.inbox, storage.deliveries).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from stgy.domain import audit, instance_settings, roles
from stgy.domain.errors import Conflict, Invalid, NotFound
from stgy.domain.moderation import check_domain
from stgy.domain.remote.delivery import forget_instance
from stgy.domain.remote.remote_keys import domains_of
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import domain_blocks as blocks_sql
from storage.db import Conn
from storage.domain_blocks import DomainBlock, DomainPolicy

__all__ = [
    "SEVERITIES",
    "BlockSpec",
    "DomainBlock",
    "DomainPolicy",
    "PublicBlock",
    "block_domain",
    "create_block",
    "get_block",
    "list_blocks",
    "policy",
    "public_blocks",
    "remove_block",
    "unblock_domain",
    "update_block",
]

SEVERITIES = ("noop", "silence", "suspend")
MAX_COMMENT = 1000


@dataclass(frozen=True)
class BlockSpec:
    """A block as an admin asks for it (checked by `checked`)."""

    domain: str
    severity: str = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False

    def checked(self) -> BlockSpec:
        if self.severity not in SEVERITIES:
            raise Invalid("severity", f"one of {', '.join(SEVERITIES)}")
        for name in ("public_comment", "private_comment"):
            if len(getattr(self, name)) > MAX_COMMENT:
                raise Invalid(name, f"at most {MAX_COMMENT} characters")
        return BlockSpec(
            check_domain(self.domain),
            self.severity,
            self.reject_media,
            self.reject_reports,
            self.public_comment.strip(),
            self.private_comment.strip(),
            self.obfuscate,
        )

    def same_as(self, block: DomainBlock) -> bool:
        return (
            self.severity == block.severity
            and self.reject_media == block.reject_media
            and self.reject_reports == block.reject_reports
            and self.public_comment == block.public_comment
            and self.private_comment == block.private_comment
            and self.obfuscate == block.obfuscate
        )


@dataclass(frozen=True)
class PublicBlock:
    """A block as /about shows it: the domain (obfuscated when asked), its SHA-256 (so a
    visitor can check a domain they know against an obfuscated one), the public reason."""

    domain: str
    digest: str
    severity: str
    reject_media: bool
    reject_reports: bool
    comment: str


def _details(block: DomainBlock, **more: Any) -> dict[str, Any]:
    return {
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "public_comment": block.public_comment,
        "obfuscate": block.obfuscate,
        **more,
    }


async def _written(
    conn: Conn, staff: Staff, action: str, block: DomainBlock, before: DomainBlock | None, via: str
) -> None:
    """What follows a block's row in its transaction: the instance flag, a suspension's
    cuts (once, when it becomes one) and the audit row."""
    suspended = block.severity == "suspend"
    await blocks_sql.set_instance_blocked(conn, domain=block.domain, blocked=suspended)
    more: dict[str, Any] = {"via": via} if via else {}
    if before is not None:
        more["before"] = before.severity
    if suspended and (before is None or before.severity != "suspend"):
        cut = await blocks_sql.cut_domain(conn, domain=block.domain)
        more.update(follows_cut=cut.follows, timeline_entries_removed=cut.timeline_entries)
    await audit.record(
        conn,
        staff,
        action,
        "domain",
        block.domain,
        comment=block.private_comment,
        details=_details(block, **more),
    )


async def save(conn: Conn, staff: Staff, spec: BlockSpec, *, via: str = "") -> str:
    """Create or change the block of `spec.domain` inside the caller's transaction:
    "created", "updated" or "unchanged" (no row, no audit)."""
    before = await blocks_sql.find_block(conn, domain=spec.domain)
    if before is None:
        made = await blocks_sql.insert_block(conn, **_fields(spec))
        if made is None:  # made meanwhile by another admin
            raise Conflict(f"{spec.domain} was blocked meanwhile; try again")
        await _written(conn, staff, "domain_block.create", made, None, via)
        return "created"
    if spec.same_as(before):
        return "unchanged"
    changed = await blocks_sql.update_block(conn, block_id=before.id, **_fields(spec, False))
    if changed is None:
        raise Conflict(f"the block of {spec.domain} was removed meanwhile; try again")
    await _written(conn, staff, "domain_block.update", changed, before, via)
    return "updated"


def _fields(spec: BlockSpec, with_domain: bool = True) -> dict[str, Any]:
    found: dict[str, Any] = {
        "severity": spec.severity,
        "reject_media": spec.reject_media,
        "reject_reports": spec.reject_reports,
        "public_comment": spec.public_comment,
        "private_comment": spec.private_comment,
        "obfuscate": spec.obfuscate,
    }
    if with_domain:
        found["domain"] = spec.domain
    return found


async def list_blocks(services: Services, staff: Staff) -> list[DomainBlock]:
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        return await blocks_sql.list_blocks(conn)


async def get_block(services: Services, staff: Staff, block_id: int) -> DomainBlock:
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        found = await blocks_sql.get_block(conn, block_id=block_id)
    if found is None:
        raise NotFound(f"no domain block {block_id}")
    return found


async def create_block(services: Services, staff: Staff, spec: BlockSpec) -> DomainBlock:
    """A new block; Conflict when the domain has one (change that one instead)."""
    roles.require(staff, roles.ADMIN)
    clean = spec.checked()
    async with services.pool.acquire() as conn, conn.transaction():
        if await blocks_sql.find_block(conn, domain=clean.domain) is not None:
            raise Conflict({"field": "domain", "reason": "already blocked"})
        await save(conn, staff, clean)
        made = await blocks_sql.find_block(conn, domain=clean.domain)
    forget_domain(services, clean.domain)
    assert made is not None  # noqa: S101 - written in this transaction
    return made


async def block_domain(
    services: Services, staff: Staff, spec: BlockSpec
) -> tuple[DomainBlock, str]:
    """Block a domain or change its block (the CLI's `block`): the block, and whether it
    was "created", "updated" or "unchanged"."""
    roles.require(staff, roles.ADMIN)
    clean = spec.checked()
    async with services.pool.acquire() as conn, conn.transaction():
        outcome = await save(conn, staff, clean)
        made = await blocks_sql.find_block(conn, domain=clean.domain)
    forget_domain(services, clean.domain)
    assert made is not None  # noqa: S101 - written in this transaction
    return made, outcome


async def update_block(
    services: Services, staff: Staff, block_id: int, changes: dict[str, Any]
) -> DomainBlock:
    """Change some fields of a block (not its domain)."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        before = await blocks_sql.get_block(conn, block_id=block_id)
        if before is None:
            raise NotFound(f"no domain block {block_id}")
        if "domain" in changes and changes["domain"] != before.domain:
            raise Invalid("domain", "cannot change; remove this block and add another")
        current = _fields_of(before)
        current.update({k: v for k, v in changes.items() if k != "domain"})
        await save(conn, staff, BlockSpec(**current).checked())
        after = await blocks_sql.get_block(conn, block_id=block_id)
    forget_domain(services, before.domain)
    assert after is not None  # noqa: S101 - changed in this transaction
    return after


def _fields_of(block: DomainBlock) -> dict[str, Any]:
    return {
        "domain": block.domain,
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "public_comment": block.public_comment,
        "private_comment": block.private_comment,
        "obfuscate": block.obfuscate,
    }


async def _remove(conn: Conn, staff: Staff, block: DomainBlock) -> None:
    await blocks_sql.delete_block(conn, block_id=block.id)
    await blocks_sql.set_instance_blocked(conn, domain=block.domain, blocked=False)
    await audit.record(
        conn, staff, "domain_block.delete", "domain", block.domain, details=_details(block)
    )


async def remove_block(services: Services, staff: Staff, block_id: int) -> DomainBlock:
    """Lift a block. Follows a suspension cut stay cut (as on Mastodon)."""
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn, conn.transaction():
        block = await blocks_sql.get_block(conn, block_id=block_id)
        if block is None:
            raise NotFound(f"no domain block {block_id}")
        await _remove(conn, staff, block)
    forget_domain(services, block.domain)
    return block


async def suspend_domain(services: Services, staff: Staff, domain: str) -> DomainBlock:
    """Make a domain's block a suspension, keeping its flags and comments (what
    `stgy instances block` does)."""
    roles.require(staff, roles.ADMIN)
    clean = check_domain(domain)
    async with services.pool.acquire() as conn, conn.transaction():
        existing = await blocks_sql.find_block(conn, domain=clean)
        fields = _fields_of(existing) if existing is not None else {"domain": clean}
        await save(conn, staff, BlockSpec(**{**fields, "severity": "suspend"}).checked())
        made = await blocks_sql.find_block(conn, domain=clean)
    forget_domain(services, clean)
    assert made is not None  # noqa: S101 - written in this transaction
    return made


async def unblock_domain(
    services: Services, staff: Staff, domain: str, *, missing_ok: bool = False
) -> str:
    """Lift the block of a domain, by name (the CLI); NotFound when it has none, unless
    `missing_ok`."""
    roles.require(staff, roles.ADMIN)
    clean = check_domain(domain)
    async with services.pool.acquire() as conn, conn.transaction():
        block = await blocks_sql.find_block(conn, domain=clean)
        if block is None:
            if not missing_ok:
                raise NotFound(f"{clean} is not blocked")
            # A flag set before migration 0025 or by hand: lifted all the same.
            await blocks_sql.set_instance_blocked(conn, domain=clean, blocked=False)
        else:
            await _remove(conn, staff, block)
    forget_domain(services, clean)
    return clean


async def policy(conn: Conn, host: str | None) -> DomainPolicy:
    """What the blocks of a remote host (and the domains above it) add up to."""
    if not host:
        return DomainPolicy("", False, False)
    return await blocks_sql.policy(conn, domains=domains_of(host.lower()))


# The domains whose media is rejected, per process for MEDIA_TTL_SECONDS: the image proxy
# asks for every image it serves.
MEDIA_TTL_SECONDS = 5.0
_MEDIA: dict[str, tuple[float, frozenset[str]]] = {}


async def rejects_media(services: Services, host: str | None) -> bool:
    """Whether a remote host's media is rejected (reject_media or suspend, on it or a
    domain above it); the answer may be MEDIA_TTL_SECONDS old in another process."""
    if not host:
        return False
    key = services.config.namespace
    cached = _MEDIA.get(key)
    now = time.monotonic()
    if cached is None or now - cached[0] >= MEDIA_TTL_SECONDS:
        async with services.pool.acquire() as conn:
            found = frozenset(await blocks_sql.media_rejected_domains(conn))
        if len(_MEDIA) > 64:
            _MEDIA.clear()
        _MEDIA[key] = cached = (now, found)
    return not cached[1].isdisjoint(domains_of(host.lower()))


def forget_domain(services: Services, domain: str) -> None:
    """After a block changed: what this process remembers of the domain goes."""
    forget_instance(domain)
    _MEDIA.pop(services.config.namespace, None)


def obfuscated(domain: str) -> str:
    """`domain` with its middle hidden (`ex*****e.com` style): a quarter of its
    characters kept at each end, dots kept so its shape shows."""
    keep = len(domain) // 4
    return "".join(
        c if i < keep or i >= len(domain) - keep or c == "." else "*" for i, c in enumerate(domain)
    )


async def public_blocks(services: Services) -> list[PublicBlock] | None:
    """The blocks as anyone may read them (/about), or None when the admins chose not
    to show them (instance setting `show_domain_blocks`). Private comments never."""
    settings = await instance_settings.current(services)
    if not settings.show_domain_blocks:
        return None
    async with services.pool.acquire() as conn:
        found = await blocks_sql.list_blocks(conn)
    return [
        PublicBlock(
            obfuscated(b.domain) if b.obfuscate else b.domain,
            hashlib.sha256(b.domain.encode()).hexdigest(),
            b.severity,
            b.reject_media,
            b.reject_reports,
            b.public_comment,
        )
        for b in found
    ]
