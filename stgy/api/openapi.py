"""OpenAPI generation: quart-schema's, plus body-less responses (204) documented as such."""

from __future__ import annotations

from typing import Any

from quart_schema.openapi import OpenAPIProvider


class StgyOpenAPIProvider(OpenAPIProvider):
    def build_response_object(
        self, model: Any, headers_model: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if model is None:
            return {"description": "No content"}, {}
        return super().build_response_object(model, headers_model)
