"""JSON-LD processing with bundled contexts only: the network is never asked for a context.

The files in `contexts/` are the published ActivityStreams 2.0 context
(https://www.w3.org/ns/activitystreams) and Security Vocabulary v1 context
(https://w3id.org/security/v1), as vendored by PyLD's frozen loader. Any other
context URL is refused, as Takahē does: a remote document naming one fails to
expand rather than making us fetch from wherever it points.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

# URL -> bundled file. The AS context is also named by its http:// and .jsonld forms.
_BUNDLED = {
    AS_CONTEXT: "activitystreams.json",
    "http://www.w3.org/ns/activitystreams": "activitystreams.json",
    "https://www.w3.org/ns/activitystreams.jsonld": "activitystreams.json",
    SECURITY_CONTEXT: "security-v1.json",
}


class JsonLdError(ValueError):
    """A document that cannot be processed, or that names a context we do not bundle."""


def bundled_urls() -> frozenset[str]:
    return frozenset(_BUNDLED)


def _pyld() -> Any:
    """PyLD, imported on first use: it pulls in `requests` and costs ~25 MB of memory in
    every process, while only documents we parse need it."""
    from pyld import jsonld  # type: ignore[import-untyped]

    return jsonld


@cache
def _read(name: str) -> dict[str, Any]:
    text = resources.files("federation").joinpath("contexts", name).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A PyLD document loader serving the bundled contexts; every other URL is refused."""
    name = _BUNDLED.get(url)
    if name is None:
        raise _pyld().JsonLdError(
            "refusing to load a context that is not bundled",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # A copy, so nothing downstream can change the cached original.
        "document": copy.deepcopy(_read(name)),
    }


def _options() -> dict[str, Any]:
    return {"documentLoader": load_document}


def _reason(exc: BaseException) -> str:
    """The innermost message of a PyLD error (it wraps the loader's refusal in its own)."""
    if isinstance(exc.__cause__, _pyld().JsonLdError):
        return _reason(exc.__cause__)
    details = getattr(exc, "details", None)
    url = details.get("url") if isinstance(details, dict) else None
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    return f"{message}: {url}" if url else message


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The expanded form of a document (full IRIs, every value a list)."""
    try:
        expanded: list[dict[str, Any]] = _pyld().expand(document, _options())
    except _pyld().JsonLdError as exc:
        raise JsonLdError(_reason(exc)) from exc
    return expanded


def compact(document: dict[str, Any] | list[Any], context: Any) -> dict[str, Any]:
    """A document compacted against `context` (a URL, a context object, or a list of them)."""
    try:
        compacted: dict[str, Any] = _pyld().compact(document, context, _options())
    except _pyld().JsonLdError as exc:
        raise JsonLdError(_reason(exc)) from exc
    return compacted
