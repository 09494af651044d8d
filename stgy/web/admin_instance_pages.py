"""/admin/domains, /admin/rules, /admin/settings: the instance policy pages of issue 17
(admins only; the domain refuses anyone else). Plain forms that work without
JavaScript: a saved form answers 303 back to its page with `?saved=1`; a refused one
shows the page again with the error and a 4xx status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import Blueprint, Response, request

from stgy.domain import domain_blocks, instance_settings, roles, rules
from stgy.domain.domain_block_csv import export_blocks, import_blocks
from stgy.domain.domain_blocks import SEVERITIES, BlockSpec
from stgy.domain.errors import DomainError, Invalid
from stgy.domain.roles import Staff
from stgy.http.validation import parse_id
from stgy.web import context, security
from stgy.web.form_errors import FormErrors, form_errors
from stgy.web.i18n import gettext as _
from stgy.web.rendering import go_to, render_page

bp = Blueprint("admin_instance", __name__, url_prefix="/admin")

BLOCK_FIELDS = ("domain", "severity", "public_comment", "private_comment")
SETTINGS_FIELDS = (*instance_settings.FIELDS, "show_domain_blocks")


async def _staff() -> Staff | Response:
    """The viewer as an admin; the log-in page's redirect when logged out (Forbidden,
    a 403 page, for anyone else)."""
    viewer = await context.maybe_viewer()
    if viewer is None:
        return go_to("/auth/login?next=" + request.path)
    return await roles.staff_of(context.services(), viewer, roles.ADMIN)


async def _form() -> dict[str, str]:
    form = await request.form
    return {name: form.get(name, "") for name in form if name != security.CSRF_FIELD}


def severity_labels() -> dict[str, str]:
    return {
        "suspend": _("Suspend: refuse everything, cut follows"),
        "silence": _("Limit: keep out of public timelines"),
        "noop": _("None: only the options below"),
    }


async def _admin_page(template: str, section: str, status: int = 200, **values: Any) -> Response:
    return await render_page(
        f"pages/admin/{template}.html",
        status=status,
        section=section,
        saved=request.args.get("saved") == "1" and status == 200,
        **values,
    )


# --- domain blocks ---------------------------------------------------------------------


def _spec(values: Mapping[str, str], domain: str | None = None) -> BlockSpec:
    return BlockSpec(
        domain if domain is not None else values.get("domain", ""),
        values.get("severity", ""),
        values.get("reject_media") == "on",
        values.get("reject_reports") == "on",
        values.get("public_comment", ""),
        values.get("private_comment", ""),
        values.get("obfuscate") == "on",
    )


async def _domains_page(
    staff: Staff,
    values: Mapping[str, Any],
    errors: FormErrors,
    status: int = 200,
    import_errors: FormErrors | None = None,
) -> Response:
    return await _admin_page(
        "domains",
        "domains",
        status,
        blocks=await domain_blocks.list_blocks(context.services(), staff),
        values=values,
        errors=errors,
        import_errors=import_errors or FormErrors(),
        severities=SEVERITIES,
        severity_labels=severity_labels(),
        imported=request.args.get("imported"),
    )


@bp.get("/domains")
async def domains() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _domains_page(staff, {"severity": "suspend"}, FormErrors())


@bp.post("/domains")
async def add_domain_block() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    values = await _form()
    try:
        await domain_blocks.create_block(context.services(), staff, _spec(values))
    except DomainError as exc:
        return await _domains_page(staff, values, form_errors(exc, BLOCK_FIELDS), exc.status)
    return go_to("/admin/domains?saved=1")


@bp.get("/domains/export")
async def export_domain_blocks() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    response = Response(await export_blocks(context.services(), staff), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="domain_blocks.csv"'
    return response


@bp.post("/domains/import")
async def import_domain_blocks() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    part = (await request.files).get("file")
    try:
        if part is None or not part.filename:
            raise Invalid("file", "required")
        raw = part.read(context.config().limits.request_body_bytes + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("file", "must be UTF-8 text") from None
        if "\x00" in text:
            raise Invalid("file", "must not contain NUL characters")
        done = await import_blocks(context.services(), staff, text)
    except DomainError as exc:
        errors = form_errors(exc, ("file",))
        return await _domains_page(
            staff, {"severity": "suspend"}, FormErrors(), exc.status, import_errors=errors
        )
    return go_to(f"/admin/domains?imported={done.created}-{done.updated}-{done.unchanged}")


async def _block_page(
    staff: Staff, block_id: int, values: Mapping[str, Any] | None, errors: FormErrors, status: int
) -> Response:
    block = await domain_blocks.get_block(context.services(), staff, block_id)
    shown = values or {
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "public_comment": block.public_comment,
        "private_comment": block.private_comment,
        "obfuscate": block.obfuscate,
    }
    return await _admin_page(
        "domain_edit",
        "domains",
        status,
        block=block,
        values=shown,
        errors=errors,
        severities=SEVERITIES,
        severity_labels=severity_labels(),
    )


def _block_id(text: str) -> int:
    return parse_id(text, "domain block")


@bp.get("/domains/<block_id>")
async def domain_block(block_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _block_page(staff, _block_id(block_id), None, FormErrors(), 200)


@bp.post("/domains/<block_id>")
async def change_domain_block(block_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    found = _block_id(block_id)
    values = await _form()
    spec = _spec(values, "")
    changes = {
        "severity": spec.severity,
        "reject_media": spec.reject_media,
        "reject_reports": spec.reject_reports,
        "public_comment": spec.public_comment,
        "private_comment": spec.private_comment,
        "obfuscate": spec.obfuscate,
    }
    try:
        await domain_blocks.update_block(context.services(), staff, found, changes)
    except Invalid as exc:
        shown = {**changes, "public_comment": spec.public_comment}
        return await _block_page(staff, found, shown, form_errors(exc, BLOCK_FIELDS), exc.status)
    return go_to("/admin/domains?saved=1")


@bp.post("/domains/<block_id>/delete")
async def delete_domain_block(block_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    await domain_blocks.remove_block(context.services(), staff, _block_id(block_id))
    return go_to("/admin/domains?saved=1")


# --- rules -------------------------------------------------------------------------------


async def _rules_page(
    staff: Staff,
    errors: FormErrors,
    status: int = 200,
    *,
    failed: int | None = None,
    add_errors: FormErrors | None = None,
    add_text: str = "",
) -> Response:
    """`errors`: of rule `failed` (or of the page); `add_errors`: of the new rule's form."""
    return await _admin_page(
        "rules",
        "rules",
        status,
        rules=await rules.full_rules(context.services(), staff),
        errors=errors,
        failed=failed,
        add_errors=add_errors or FormErrors(),
        add_text=add_text,
    )


def _rule_id(text: str) -> int:
    return parse_id(text, "rule")


@bp.get("/rules")
async def rules_page() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    return await _rules_page(staff, FormErrors())


@bp.post("/rules")
async def add_rule() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    values = await _form()
    try:
        await rules.add_rule(context.services(), staff, values.get("text", ""))
    except DomainError as exc:
        return await _rules_page(
            staff,
            FormErrors(),
            exc.status,
            add_errors=form_errors(exc, ("text",)),
            add_text=values.get("text", ""),
        )
    return go_to("/admin/rules?saved=1")


@bp.post("/rules/<rule_id>")
async def change_rule(rule_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    found = _rule_id(rule_id)
    values = await _form()
    try:
        await rules.change_rule(context.services(), staff, found, values.get("text", ""))
    except Invalid as exc:
        return await _rules_page(staff, form_errors(exc, ("text",)), exc.status, failed=found)
    return go_to("/admin/rules?saved=1")


@bp.post("/rules/<rule_id>/move")
async def move_rule(rule_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    found = _rule_id(rule_id)
    values = await _form()
    listed = [r.id for r in await rules.full_rules(context.services(), staff)]
    where = listed.index(found) if found in listed else 0
    step = {"up": -1, "down": 1}.get(values.get("direction", ""))
    if step is None:
        return await _rules_page(staff, FormErrors(form=_("Choose up or down.")), 400)
    await rules.move_rule(context.services(), staff, found, max(0, where + step))
    return go_to("/admin/rules?saved=1")


@bp.post("/rules/<rule_id>/delete")
async def delete_rule(rule_id: str) -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    await rules.remove_rule(context.services(), staff, _rule_id(rule_id))
    return go_to("/admin/rules?saved=1")


# --- settings ----------------------------------------------------------------------------


async def _settings_page(
    values: Mapping[str, Any], errors: FormErrors, status: int = 200
) -> Response:
    return await _admin_page(
        "settings",
        "settings",
        status,
        values=values,
        errors=errors,
        defaults=context.config().instance,
        overridden=(await instance_settings.current(context.services())).overridden,
        registrations=instance_settings.REGISTRATIONS,
    )


@bp.get("/settings")
async def settings_page() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    found = await instance_settings.current(context.services())
    values = {name: getattr(found, name) for name in SETTINGS_FIELDS}
    return await _settings_page(values, FormErrors())


@bp.post("/settings")
async def change_settings() -> Response:
    staff = await _staff()
    if isinstance(staff, Response):
        return staff
    values: dict[str, Any] = await _form()
    changes: dict[str, Any] = {name: values.get(name, "") for name in instance_settings.FIELDS}
    changes["show_domain_blocks"] = values.get("show_domain_blocks") == "on"
    for name in instance_settings.FIELDS:
        if values.get(f"reset_{name}") == "on":
            changes[name] = None
    try:
        await instance_settings.update(context.services(), staff, changes)
    except DomainError as exc:
        shown = {**changes, **{n: values.get(n, "") for n in instance_settings.FIELDS}}
        return await _settings_page(shown, form_errors(exc, SETTINGS_FIELDS), exc.status)
    return go_to("/admin/settings?saved=1")
