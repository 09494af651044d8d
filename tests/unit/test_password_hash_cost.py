"""Password hashes: Argon2id at the configured cost, RFC 9106's recommendation by default;
any hash verifies whatever the cost configured now (the cost is in the hash)."""

from __future__ import annotations

from stgy.config import AuthConfig, load_config
from stgy.domain.auth import hash_password, password_matches


async def test_new_hashes_take_the_configured_cost() -> None:
    default = load_config(environ={}).auth
    assert (default.password_time_cost, default.password_memory_kib) == (3, 65536)
    strong = await hash_password(default, "correct horse battery")
    assert strong.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = await hash_password(AuthConfig(password_time_cost=1, password_memory_kib=8192), "x y z")
    assert cheap.startswith("$argon2id$v=19$m=8192,t=1,p=4$")
    assert await password_matches(strong, "correct horse battery")
    assert await password_matches(cheap, "x y z")
    assert not await password_matches(strong, "x y z")
    assert not await password_matches("not a hash", "x y z")


def test_the_cost_can_be_set_from_the_environment() -> None:
    config = load_config(
        environ={"STGY_AUTH_PASSWORD_TIME_COST": "2", "STGY_AUTH_PASSWORD_MEMORY_KIB": "16384"}
    )
    assert (config.auth.password_time_cost, config.auth.password_memory_kib) == (2, 16384)
