"""The command line loads a command group's module only when that group is run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stgy.cli import GROUPS, _named_groups, build_parser


def test_the_listed_help_is_each_group_modules_own() -> None:
    # Unloaded groups are listed from GROUPS; loaded ones by their modules: the same text.
    assert build_parser(set()).format_help() == build_parser(None).format_help()
    assert "manage local users" in build_parser(set()).format_help()


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["version"], set()),
        (["serve", "--bind", "127.0.0.1:1"], set()),
        (["users", "list"], {"stgy.cli_admin"}),
        (["--config", "x.toml", "rules", "list"], {"stgy.cli_domains"}),
        (["jobs", "retry", "7"], {"stgy.cli_jobs"}),
        (["accounts", "show", "users"], {"stgy.cli_accounts", "stgy.cli_admin"}),
    ],
)
def test_the_groups_named_on_the_command_line_are_loaded(
    argv: list[str], modules: set[str]
) -> None:
    assert _named_groups(argv) == modules
    # Each loaded group's commands parse in full.
    if modules:
        assert build_parser(modules).parse_args(argv).func is not None


def test_every_group_command_is_in_groups() -> None:
    listed = {name for _, _, names in GROUPS for name, _ in names}
    parser = build_parser(None)
    [sub] = [a for a in parser._actions if a.dest == "command"]
    core = {"run", "serve", "worker", "check", "version", "db", "services"}
    assert set(sub.choices) == listed | core  # type: ignore[arg-type]


def test_a_command_without_the_domain_imports_none_of_it() -> None:
    # `stgy serve` must set its metrics folder before prometheus_client is imported, and
    # `stgy version` should start in a blink: neither may pull in the domain on parsing.
    code = (
        "import sys\n"
        "from stgy.cli import _named_groups, build_parser\n"
        "for argv in (['version'], ['serve'], ['db', 'status'], ['--help']):\n"
        "    build_parser(_named_groups(argv))\n"
        "heavy = ('prometheus_client', 'stgy.services', 'stgy.domain', 'asyncpg', 'redis')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or\n"
        "      m.startswith(('stgy.services', 'stgy.domain'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
