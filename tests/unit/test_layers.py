"""The import contracts of ARCHITECTURE.md: dependencies point down, never up or sideways."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"stgy", "federation", "storage", "tasks", "tests", "bench"}
ALLOWED = {
    "storage": set(),
    "federation": set(),
    "stgy": {"storage", "federation"},
    "tasks": {"stgy", "storage", "federation"},
}
# The command line is an entry point beside tasks/: `stgy worker` starts the worker.
ENTRY_POINTS = {Path("stgy/cli.py"): {"tasks"}}

# The HTTP faces: each is thin over the domain and the request helpers of stgy.http,
# and none imports another (a web page and an API answer share domain calls, not code).
FACES = ("stgy.api", "stgy.activitypub", "stgy.web", "stgy.mastodon")
HTTP = "stgy.http"
# The app factory registers every face's blueprints: the one module outside the faces
# that may import them.
APP = "stgy.app"


def module_name(path: Path) -> str:
    """`stgy/api/posts.py` -> `stgy.api.posts`; a package's `__init__.py` -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Dotted names `module` imports: `from stgy.domain import posts` gives both
    `stgy.domain` and `stgy.domain.posts` (a name may be a module or an attribute);
    relative imports are resolved against `module`."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def face_of(name: str) -> str | None:
    return next((face for face in FACES if within(name, face)), None)


def layer_violations(imports: dict[str, set[str]]) -> list[str]:
    """Broken contracts between the faces, stgy.http and the rest, for a map from each
    module to the dotted names it imports:

    - a face imports no other face (it may import stgy.http, the domain, storage...);
    - stgy.http imports no face;
    - nothing else imports a face or stgy.http, but the app factory (tests and bench
      aside): not the domain, nor tasks/, nor the other modules of stgy/.
    """
    broken = []
    for module, imported in sorted(imports.items()):
        if within(module, "tests") or within(module, "bench") or module == APP:
            continue
        own_face = face_of(module)
        for name in sorted(imported):
            target = face_of(name)
            if own_face is not None:
                wrong = target is not None and target != own_face
            elif within(module, HTTP):
                wrong = target is not None
            else:
                wrong = target is not None or within(name, HTTP)
            if wrong:
                broken.append(f"{module} imports {name}")
    return broken


def all_imports() -> dict[str, set[str]]:
    found = {}
    for package in ("stgy", "tasks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = imported_modules(
                path.read_text(), module_name(path), path.name == "__init__.py"
            )
    return found


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_packages_import_only_what_they_may() -> None:
    broken = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            extra = ENTRY_POINTS.get(path.relative_to(ROOT), set())
            for imported in imports_of(path) - allowed - extra - {package}:
                broken.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert broken == []


def test_faces_import_no_other_face_and_the_domain_no_face() -> None:
    imports = all_imports()
    assert "stgy.activitypub.inbox" in imports and "stgy.http.errors" in imports  # looked at
    assert layer_violations(imports) == []


def test_the_layer_check_catches_each_kind_of_violation() -> None:
    imports = {
        "stgy.api.posts": {"stgy.http.context", "stgy.domain.posts", "storage.posts"},
        "stgy.api.accounts": {"stgy.activitypub.objects"},  # a face importing another
        "stgy.activitypub.inbox": {"stgy.api", "stgy.api.serializers"},
        "stgy.web.pages": {"stgy.api.serializers", "stgy.web.partials"},
        "stgy.mastodon.statuses": {"stgy.web"},
        "stgy.http.errors": {"stgy.domain.errors", "stgy.api.schemas"},  # http importing a face
        "stgy.domain.posts": {"stgy.http.context", "stgy.domain.text"},  # domain importing http
        "stgy.domain.remote.inbox": {"stgy.activitypub.inbox"},  # domain importing a face
        "tasks.worker": {"stgy.http", "stgy.domain.events"},
        "stgy.cli": {"stgy.mastodon.oauth"},
        "stgy.app": {"stgy.api.posts", "stgy.activitypub.inbox", "stgy.http.health"},
        "tests.integration.test_app": {"stgy.api.serializers", "stgy.http.body"},
    }
    assert layer_violations(imports) == [
        "stgy.activitypub.inbox imports stgy.api",
        "stgy.activitypub.inbox imports stgy.api.serializers",
        "stgy.api.accounts imports stgy.activitypub.objects",
        "stgy.cli imports stgy.mastodon.oauth",
        "stgy.domain.posts imports stgy.http.context",
        "stgy.domain.remote.inbox imports stgy.activitypub.inbox",
        "stgy.http.errors imports stgy.api.schemas",
        "stgy.mastodon.statuses imports stgy.web",
        "stgy.web.pages imports stgy.api.serializers",
        "tasks.worker imports stgy.http",
    ]


def test_imports_are_read_in_every_form() -> None:
    source = "\n".join(
        [
            "import stgy.web.pages",
            "from stgy import api",
            "from stgy.activitypub.inbox import bp",
            "from . import schemas",
            "from ..http import context",
            "if TYPE_CHECKING:",
            "    from stgy.mastodon import entities",
        ]
    )
    found = imported_modules(source, "stgy.api.posts")
    assert {
        "stgy.web.pages",
        "stgy.api",
        "stgy.activitypub.inbox",
        "stgy.api.schemas",
        "stgy.http.context",
        "stgy.mastodon.entities",
    } <= found
    violations = layer_violations({"stgy.api.posts": found})
    assert "stgy.api.posts imports stgy.web.pages" in violations
    assert "stgy.api.posts imports stgy.activitypub.inbox" in violations
    assert "stgy.api.posts imports stgy.mastodon.entities" in violations
    assert not any("stgy.api.schemas" in line or "stgy.http" in line for line in violations)
    # In a package's __init__.py, `.` is the package itself.
    assert "stgy.http.errors" in imported_modules("from .errors import x", "stgy.http", True)


def test_storage_holds_all_sql_and_federation_no_database() -> None:
    for path in (ROOT / "federation").rglob("*.py"):
        text = path.read_text()
        assert "asyncpg" not in text and "quart" not in text, path
