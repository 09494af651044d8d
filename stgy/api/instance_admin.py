"""Native API for issue 17's instance policy: domain blocks, rules and live instance
settings (admins: /api/admin/...), and what anyone may read of them (/api/instance...).
Every check is the domain's (stgy.domain.roles): a moderator is refused too."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify, request

from stgy.api import schemas
from stgy.api.serializers import iso
from stgy.domain import domain_blocks, instance_settings, roles, rules
from stgy.domain.domain_block_csv import export_blocks, import_blocks
from stgy.domain.domain_blocks import BlockSpec, DomainBlock, PublicBlock
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.roles import Staff
from stgy.http.context import require_viewer, services
from stgy.http.validation import RequestModel, json_body, parse_id, responds
from storage.instance_admin import Rule

bp = Blueprint("instance_admin", __name__)

Severity = Literal["noop", "silence", "suspend"]
Registrations = Literal["open", "approval", "closed"]


class DomainBlockOut(BaseModel):
    id: str
    domain: str
    severity: Severity
    reject_media: bool
    reject_reports: bool
    public_comment: str
    private_comment: str
    obfuscate: bool
    created_at: str
    updated_at: str


class DomainBlockListOut(BaseModel):
    domain_blocks: list[DomainBlockOut]


class DomainBlockIn(RequestModel):
    domain: str = Field(description="host name, with :port when not the default")
    severity: Severity = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False


class DomainBlockPatch(RequestModel):
    severity: Severity | None = None
    reject_media: bool | None = None
    reject_reports: bool | None = None
    public_comment: str | None = None
    private_comment: str | None = None
    obfuscate: bool | None = None


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class PublicBlockOut(BaseModel):
    domain: str = Field(description="obfuscated (some letters as *) when the admins chose")
    digest: str = Field(description="SHA-256 of the real domain, hex")
    severity: Severity
    reject_media: bool
    reject_reports: bool
    comment: str


class PublicBlockListOut(BaseModel):
    domain_blocks: list[PublicBlockOut]


class RuleOut(BaseModel):
    id: str
    text: str


class RuleListOut(BaseModel):
    rules: list[RuleOut]


class RuleIn(RequestModel):
    text: str


class RulePatch(RequestModel):
    text: str | None = None
    position: int | None = Field(default=None, ge=0, description="0 first")


class SettingsOut(BaseModel):
    name: str
    description: str
    contact_email: str
    registrations: Registrations
    show_domain_blocks: bool
    overridden: list[str] = Field(description="the fields set here rather than in instance.toml")


class SettingsPatch(RequestModel):
    """Only the fields given change; null puts one back to instance.toml's value."""

    name: str | None = None
    description: str | None = None
    contact_email: str | None = None
    registrations: Registrations | None = None
    show_domain_blocks: bool | None = None


class InstanceOut(BaseModel):
    domain: str
    name: str
    description: str
    contact_email: str
    registrations: Registrations
    rules: list[RuleOut]


def block_json(b: DomainBlock) -> dict[str, Any]:
    return {
        "id": str(b.id),
        "domain": b.domain,
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "public_comment": b.public_comment,
        "private_comment": b.private_comment,
        "obfuscate": b.obfuscate,
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    }


def public_block_json(b: PublicBlock) -> dict[str, Any]:
    return {
        "domain": b.domain,
        "digest": b.digest,
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "comment": b.comment,
    }


def rule_json(rule: Rule | rules.RuleText) -> dict[str, Any]:
    return {"id": str(rule.id), "text": rule.text}


def settings_json(found: instance_settings.InstanceSettings) -> dict[str, Any]:
    return {
        "name": found.name,
        "description": found.description,
        "contact_email": found.contact_email,
        "registrations": found.registrations,
        "show_domain_blocks": found.show_domain_blocks,
        "overridden": list(found.overridden),
    }


async def _admin() -> Staff:
    return await roles.staff_of(services(), await require_viewer(), roles.ADMIN)


_ADMIN_ERRORS = ((schemas.Error, 401), (schemas.Error, 403))


def _admin_errors(func: Any) -> Any:
    for model, status in _ADMIN_ERRORS:
        func = responds(model, status)(func)
    return func


# --- domain blocks ----------------------------------------------------------------------


@bp.get("/api/admin/domain_blocks")
@responds(DomainBlockListOut)
@_admin_errors
async def list_domain_blocks() -> Response:
    found = await domain_blocks.list_blocks(services(), await _admin())
    return jsonify({"domain_blocks": [block_json(b) for b in found]})


@bp.post("/api/admin/domain_blocks")
@json_body(DomainBlockIn)
@responds(DomainBlockOut, 201)
@schemas.fails_with(400, 409)
@_admin_errors
async def create_domain_block(body: DomainBlockIn) -> tuple[Response, int]:
    """Block a domain and those below it (409 when it has a block: change that one)."""
    staff = await _admin()
    made = await domain_blocks.create_block(services(), staff, BlockSpec(**body.model_dump()))
    return jsonify(block_json(made)), 201


@bp.get("/api/admin/domain_blocks/export")
@_admin_errors
async def export_domain_blocks() -> Response:
    """Every block as Mastodon's CSV (`#domain,#severity,#reject_media,#reject_reports,
    #public_comment,#obfuscate`)."""
    text = await export_blocks(services(), await _admin())
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="domain_blocks.csv"'
    return response


@bp.post("/api/admin/domain_blocks/import")
@responds(ImportOut)
@responds(schemas.Error, 400)
@_admin_errors
async def import_domain_blocks() -> Response:
    """The body is a CSV file in Mastodon's format (or bare domains, one a line):
    blocks are created, or changed to match; all or nothing (400 names the bad line)."""
    staff = await _admin()
    raw = await request.get_data(as_text=False)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise Invalid("file", "must be UTF-8 text") from None
    if "\x00" in text:
        raise Invalid("file", "must not contain NUL characters")
    done = await import_blocks(services(), staff, text)
    return jsonify({"created": done.created, "updated": done.updated, "unchanged": done.unchanged})


@bp.get("/api/admin/domain_blocks/<block_id>")
@responds(DomainBlockOut)
@responds(schemas.Error, 404)
@_admin_errors
async def get_domain_block(block_id: str) -> Response:
    staff = await _admin()
    found = await domain_blocks.get_block(services(), staff, parse_id(block_id, "domain block"))
    return jsonify(block_json(found))


@bp.patch("/api/admin/domain_blocks/<block_id>")
@json_body(DomainBlockPatch)
@responds(DomainBlockOut)
@schemas.fails_with(400, 404)
@_admin_errors
async def change_domain_block(block_id: str, body: DomainBlockPatch) -> Response:
    staff = await _admin()
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(name, "must not be null")
    found = await domain_blocks.update_block(
        services(), staff, parse_id(block_id, "domain block"), changes
    )
    return jsonify(block_json(found))


@bp.delete("/api/admin/domain_blocks/<block_id>")
@responds(None, 204)
@responds(schemas.Error, 404)
@_admin_errors
async def delete_domain_block(block_id: str) -> tuple[str, int]:
    staff = await _admin()
    await domain_blocks.remove_block(services(), staff, parse_id(block_id, "domain block"))
    return "", 204


@bp.get("/api/instance/domain_blocks")
@responds(PublicBlockListOut)
@responds(schemas.Error, 404)
async def public_domain_blocks() -> Response:
    """The blocks as /about lists them (404 unless the admins chose to show them)."""
    found = await domain_blocks.public_blocks(services())
    if found is None:
        raise NotFound("this instance does not publish its domain blocks")
    return jsonify({"domain_blocks": [public_block_json(b) for b in found]})


# --- rules -------------------------------------------------------------------------------


@bp.get("/api/instance/rules")
@responds(RuleListOut)
async def public_rules() -> Response:
    """The instance's rules, in order."""
    found = await rules.list_rules(services())
    return jsonify({"rules": [rule_json(r) for r in found]})


@bp.get("/api/admin/rules")
@responds(RuleListOut)
@_admin_errors
async def list_rules() -> Response:
    found = await rules.full_rules(services(), await _admin())
    return jsonify({"rules": [rule_json(r) for r in found]})


@bp.post("/api/admin/rules")
@json_body(RuleIn)
@responds(RuleOut, 201)
@responds(schemas.Error, 400)
@_admin_errors
async def add_rule(body: RuleIn) -> tuple[Response, int]:
    """A rule after the last."""
    rule = await rules.add_rule(services(), await _admin(), body.text)
    return jsonify(rule_json(rule)), 201


@bp.patch("/api/admin/rules/<rule_id>")
@json_body(RulePatch)
@responds(RuleListOut)
@schemas.fails_with(400, 404)
@_admin_errors
async def change_rule(rule_id: str, body: RulePatch) -> Response:
    """Change a rule's text and/or move it to `position` (0 first); the rules in order."""
    staff = await _admin()
    found = parse_id(rule_id, "rule")
    if body.text is None and body.position is None:
        raise Invalid("body", "give text, position or both")
    if body.text is not None:
        await rules.change_rule(services(), staff, found, body.text)
    if body.position is not None:
        await rules.move_rule(services(), staff, found, body.position)
    listed = await rules.full_rules(services(), staff)
    return jsonify({"rules": [rule_json(r) for r in listed]})


@bp.delete("/api/admin/rules/<rule_id>")
@responds(None, 204)
@responds(schemas.Error, 404)
@_admin_errors
async def delete_rule(rule_id: str) -> tuple[str, int]:
    await rules.remove_rule(services(), await _admin(), parse_id(rule_id, "rule"))
    return "", 204


# --- settings ----------------------------------------------------------------------------


@bp.get("/api/admin/settings")
@responds(SettingsOut)
@_admin_errors
async def get_settings() -> Response:
    await _admin()
    return jsonify(settings_json(await instance_settings.current(services())))


@bp.patch("/api/admin/settings")
@json_body(SettingsPatch)
@responds(SettingsOut)
@responds(schemas.Error, 400)
@_admin_errors
async def change_settings(body: SettingsPatch) -> Response:
    staff = await _admin()
    changed = await instance_settings.update(services(), staff, body.model_dump(exclude_unset=True))
    return jsonify(settings_json(changed))


@bp.get("/api/instance")
@responds(InstanceOut)
async def instance() -> Response:
    """The instance as it presents itself: the values admins set, else instance.toml's."""
    found = await instance_settings.current(services())
    listed = await rules.list_rules(services())
    return jsonify(
        {
            "domain": services().config.instance.domain,
            "name": found.name,
            "description": found.description,
            "contact_email": found.contact_email,
            "registrations": found.registrations,
            "rules": [rule_json(r) for r in listed],
        }
    )
