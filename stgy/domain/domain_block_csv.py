"""Domain blocks in and out as Mastodon's CSV (`#domain,#severity,#reject_media,
#reject_reports,#public_comment,#obfuscate`); a file of bare domains, one a line, is
read as suspensions, as Mastodon reads it. An import is one transaction: a bad line
refuses the whole file, naming the line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from stgy.domain import roles
from stgy.domain.domain_blocks import SEVERITIES, BlockSpec, forget_domain, save
from stgy.domain.errors import Invalid
from stgy.domain.roles import Staff
from stgy.services import Services
from storage import domain_blocks as blocks_sql
from storage.domain_blocks import DomainBlock

HEADER = [
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
]
MAX_ROWS = 10_000
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f", ""}


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int
    unchanged: int


def export_csv(blocks: list[DomainBlock]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for b in blocks:
        writer.writerow(
            [
                b.domain,
                b.severity,
                str(b.reject_media).lower(),
                str(b.reject_reports).lower(),
                b.public_comment,
                str(b.obfuscate).lower(),
            ]
        )
    return out.getvalue()


def _flag(value: str, line: int, name: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise Invalid("file", f"line {line}: {name} must be true or false (got {value!r})")


def parse_csv(text: str) -> list[BlockSpec]:
    """The blocks a file asks for, checked; Invalid("file", "line N: ...") otherwise."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    columns: list[str] | None = None
    specs: list[BlockSpec] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if columns is None and row[0].strip().startswith("#"):
            columns = [c.strip().lstrip("#").lower() for c in row]
            if "domain" not in columns:
                raise Invalid("file", f"line {number}: the header has no #domain column")
            continue
        named = dict(zip(columns or ["domain"], row, strict=False))
        severity = named.get("severity", "").strip().lower() or "suspend"
        if severity not in SEVERITIES:
            raise Invalid("file", f"line {number}: severity must be one of {', '.join(SEVERITIES)}")
        try:
            spec = BlockSpec(
                named.get("domain", ""),
                severity,
                _flag(named.get("reject_media", ""), number, "reject_media"),
                _flag(named.get("reject_reports", ""), number, "reject_reports"),
                named.get("public_comment", ""),
                "",
                _flag(named.get("obfuscate", ""), number, "obfuscate"),
            ).checked()
        except Invalid as exc:
            if exc.field == "file":
                raise
            raise Invalid("file", f"line {number}: {exc.field}: {exc.reason}") from None
        if spec.domain in seen:
            raise Invalid("file", f"line {number}: {spec.domain} is listed twice")
        seen.add(spec.domain)
        specs.append(spec)
        if len(specs) > MAX_ROWS:
            raise Invalid("file", f"at most {MAX_ROWS} domains per file")
    return specs


async def export_blocks(services: Services, staff: Staff) -> str:
    roles.require(staff, roles.ADMIN)
    async with services.pool.acquire() as conn:
        return export_csv(await blocks_sql.list_blocks(conn))


async def import_blocks(services: Services, staff: Staff, text: str) -> Imported:
    """Create the file's blocks and change existing ones to match it (their private
    comments stay), all or nothing; one audit row per block created or changed."""
    roles.require(staff, roles.ADMIN)
    specs = parse_csv(text)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    async with services.pool.acquire() as conn, conn.transaction():
        for spec in specs:
            existing = await blocks_sql.find_block(conn, domain=spec.domain)
            if existing is not None:
                spec = BlockSpec(
                    spec.domain,
                    spec.severity,
                    spec.reject_media,
                    spec.reject_reports,
                    spec.public_comment,
                    existing.private_comment,
                    spec.obfuscate,
                )
            counts[await save(conn, staff, spec, via="import")] += 1
    for spec in specs:
        forget_domain(services, spec.domain)
    return Imported(counts["created"], counts["updated"], counts["unchanged"])
