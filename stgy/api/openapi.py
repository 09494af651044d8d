"""OpenAPI generation: quart-schema's, plus body-less responses (204) documented as such
and what an `{account_id}` in a path may be (stgy.api.account_refs)."""

from __future__ import annotations

from typing import Any

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing.converters import BaseConverter

ACCOUNT_REF = (
    "An account: its id (a decimal string), `@handle` for a local account (a handle it"
    " had before still finds it), or `@user@host` for a remote one we know. Reading an"
    " account or its posts also looks a remote account we do not know up on its server."
)


class StgyOpenAPIProvider(OpenAPIProvider):
    def build_response_object(
        self, model: Any, headers_model: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if model is None:
            return {"description": "No content"}, {}
        return super().build_response_object(model, headers_model)

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if name == "account_id":
            parameter["description"] = ACCOUNT_REF
        return parameter
