"""Property-based checks of the whole native API against its own OpenAPI document.

Schemathesis (its CLI, in a subprocess) generates valid and invalid requests for
every documented operation and sends them to a live instance, logged in as a
real user: no answer may be a 5xx, and every answer with a documented status must
match its documented schema.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import LiveInstance, unique_handle

PASSWORD = "schemathesis passphrase"  # noqa: S105 - a throw-away test account
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Examples per operation, and fewer for the operations where more would add nothing.
CONFIG = Path(__file__).with_name("schemathesis.toml")


def login(live_instance: LiveInstance) -> str:
    handle = unique_handle("fuzz")
    registered = httpx.post(
        f"{live_instance.url}/api/accounts",
        json={"handle": handle, "password": PASSWORD, "email": f"{handle}@example.com"},
    )
    assert registered.status_code == 201, registered.text
    response = httpx.post(
        f"{live_instance.url}/api/auth/login", json={"handle": handle, "password": PASSWORD}
    )
    return str(response.json()["token"])


def test_api_conforms_to_its_schema(live_instance: LiveInstance, tmp_path: Path) -> None:
    token = login(live_instance)
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live_instance.url}/api/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            f"Authorization: Bearer {token}",
            # Logging out would end the session every other case uses.
            "--exclude-path",
            "/api/auth/logout",
            "--seed",
            "20261123",
            "--report-dir",
            str(tmp_path),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert "Server error" not in result.stdout
    passed = re.search(r"\b(\d+) generated, (\d+) passed", result.stdout)
    assert passed is not None and int(passed.group(2)) > 0, summary
