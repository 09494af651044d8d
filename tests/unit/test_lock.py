"""The locks in requirements/ pin every requirement they were made from, inside its range."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
BUILD_REQUIREMENTS = ROOT / "requirements" / "build.in"
PASTURE_REQUIREMENTS = ROOT / "tests" / "interop" / "requirements-pasture.txt"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
PASTURE_LOCK = ROOT / "requirements" / "pasture.txt"
TOOLS_REQUIREMENTS = ROOT / "requirements" / "tools.in"
TOOLS_LOCK = ROOT / "requirements" / "tools.txt"
# Where the locks are installed: a requirement whose marker excludes it needs no pin.
TARGET = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "extra": "",
}


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: str
    marker: str
    hashes: tuple[str, ...]


Lock = dict[NormalizedName, list[Pin]]


def parse_lock(text: str) -> Lock:
    """`name==version [; marker] \\` lines, each followed by its `--hash=` lines.

    A universal lock may pin one name twice, under exclusive markers.
    """
    entries: list[tuple[Requirement, list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip().removesuffix("\\").strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash="):
            if not entries:
                raise ValueError(f"a hash before any pin: {line!r}")
            entries[-1][1].append(stripped.removeprefix("--hash="))
        elif stripped.startswith("-") or line[0].isspace():
            raise ValueError(f"not a pin: {line!r}")
        else:
            entries.append((Requirement(stripped), []))
    lock: Lock = {}
    for requirement, hashes in entries:
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"not pinned to one version: {requirement}")
        name = canonicalize_name(requirement.name)
        marker = str(requirement.marker) if requirement.marker else ""
        lock.setdefault(name, []).append(Pin(name, specifiers[0].version, marker, tuple(hashes)))
    return lock


def parse_requirements_file(text: str) -> list[Requirement]:
    """A plain requirements file: one requirement a line, `#` comments, no options."""
    found = []
    for line in text.splitlines():
        stripped = line.partition("#")[0].strip()
        if stripped.startswith("-"):
            raise ValueError(f"options are not expected here: {line!r}")
        if stripped:
            found.append(Requirement(stripped))
    return found


@dataclass(frozen=True)
class ProjectRequirements:
    runtime: list[Requirement]
    dev: list[Requirement]
    build: list[Requirement]


def parse_pyproject(text: str) -> ProjectRequirements:
    data = tomllib.loads(text)
    project = data["project"]
    return ProjectRequirements(
        runtime=[Requirement(r) for r in project["dependencies"]],
        dev=[Requirement(r) for r in project.get("optional-dependencies", {}).get("dev", [])],
        build=[Requirement(r) for r in data["build-system"]["requires"]],
    )


def mismatches(required: list[Requirement], lock: Lock) -> list[str]:
    """One line per requirement that the lock lacks or pins outside its range."""
    problems = []
    for requirement in required:
        if requirement.marker and not requirement.marker.evaluate(TARGET):
            continue
        pins = lock.get(canonicalize_name(requirement.name), [])
        if not pins:
            problems.append(f"{requirement}: not in the lock")
        for pin in pins:
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{requirement}: locked at {pin.version}")
    return problems


def project() -> ProjectRequirements:
    return parse_pyproject(PYPROJECT.read_text())


def build_requirements() -> list[Requirement]:
    return parse_requirements_file(BUILD_REQUIREMENTS.read_text())


def read_lock(path: Path) -> Lock:
    return parse_lock(path.read_text())


def test_dev_lock_pins_runtime_dev_and_build_requirements_in_range() -> None:
    wanted = project().runtime + project().dev + project().build + build_requirements()
    assert mismatches(wanted, read_lock(DEV_LOCK)) == []


def test_runtime_lock_pins_runtime_and_build_requirements_in_range() -> None:
    wanted = project().runtime + project().build + build_requirements()
    assert mismatches(wanted, read_lock(RUNTIME_LOCK)) == []


def test_runtime_lock_has_the_tested_versions() -> None:
    """The image installs the runtime lock; the suite ran with the dev lock."""
    dev = read_lock(DEV_LOCK)
    runtime = read_lock(RUNTIME_LOCK)
    differing = {
        name: ([p.version for p in pins], [p.version for p in dev.get(name, [])])
        for name, pins in runtime.items()
        if {p.version for p in pins} - {p.version for p in dev.get(name, [])}
    }
    assert differing == {}


def test_pasture_lock_pins_its_requirements_in_range() -> None:
    wanted = parse_requirements_file(PASTURE_REQUIREMENTS.read_text()) + build_requirements()
    assert mismatches(wanted, read_lock(PASTURE_LOCK)) == []


def test_tools_lock_pins_uv_as_named() -> None:
    wanted = parse_requirements_file(TOOLS_REQUIREMENTS.read_text())
    assert mismatches(wanted, read_lock(TOOLS_LOCK)) == []


@pytest.mark.parametrize(
    "path", [RUNTIME_LOCK, DEV_LOCK, PASTURE_LOCK, TOOLS_LOCK], ids=lambda p: p.name
)
def test_every_pin_has_sha256_hashes(path: Path) -> None:
    lock = read_lock(path)
    assert lock
    unhashed = [
        f"{pin.name}=={pin.version}"
        for pins in lock.values()
        for pin in pins
        if not pin.hashes or not all(h.startswith("sha256:") for h in pin.hashes)
    ]
    assert unhashed == []


def test_a_range_moved_past_its_pin_and_a_new_dependency_are_caught() -> None:
    """The real pyproject.toml, edited as someone might without running `make lock`."""
    text = PYPROJECT.read_text()
    written = tomllib.loads(text)["project"]["dependencies"][0]
    first = Requirement(written)
    locked = read_lock(DEV_LOCK)[canonicalize_name(first.name)][0].version
    assert f'"{written}"' in text
    edited = text.replace(f'"{written}"', f'"{first.name}>{locked}", "left-pad>=1.3"', 1)
    requirements = parse_pyproject(edited)
    found = mismatches(requirements.runtime, read_lock(DEV_LOCK))
    # Any other disagreement of the real files is for the other tests to report.
    assert found[:2] == [
        f"{first.name}>{locked}: locked at {locked}",
        "left-pad>=1.3: not in the lock",
    ]


MISMATCHED_PYPROJECT = """
[build-system]
requires = ["setuptools>=999"]

[project]
name = "stgy"
dependencies = ["quart>=0.22", "redis>=9,<10", "pywin32>=300; sys_platform == 'win32'"]

[project.optional-dependencies]
dev = ["pytest>=9", "pytest-newthing>=1"]
"""


def test_a_mismatched_pyproject_text_is_caught() -> None:
    requirements = parse_pyproject(MISMATCHED_PYPROJECT)
    wanted = requirements.runtime + requirements.dev + requirements.build
    found = mismatches(wanted, read_lock(DEV_LOCK))
    assert [line.partition(":")[0] for line in found] == [
        "redis<10,>=9",
        "pytest-newthing>=1",
        "setuptools>=999",
    ]


def test_a_dev_requirement_missing_from_the_runtime_lock_is_caught() -> None:
    requirements = project()
    found = mismatches(requirements.runtime + requirements.dev, read_lock(RUNTIME_LOCK))
    assert any(line.startswith("pytest") and "not in the lock" in line for line in found)


def test_lock_parser_reads_forked_pins_and_refuses_ranges() -> None:
    lock = parse_lock(
        "soupsieve==2.10 ; python_full_version < '3.11.5' \\\n"
        "    --hash=sha256:aa\n"
        "    # via beautifulsoup4\n"
        "soupsieve==4.1.4 ; python_full_version >= '3.11.5' \\\n"
        "    --hash=sha256:bb \\\n"
        "    --hash=sha256:cc\n"
    )
    assert [(p.version, p.hashes) for p in lock[canonicalize_name("soupsieve")]] == [
        ("2.10", ("sha256:aa",)),
        ("4.1.4", ("sha256:bb", "sha256:cc")),
    ]
    assert mismatches([Requirement("soupsieve>=3")], lock) == ["soupsieve>=3: locked at 2.10"]
    with pytest.raises(ValueError, match="not pinned"):
        parse_lock("quart>=0.22\n")
