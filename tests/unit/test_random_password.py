"""The passwords `stgy users create` and `reset-password` make when none is given."""

from __future__ import annotations

from stgy.domain.accounts import check_password, random_password


def test_a_random_password_is_one_the_account_may_have() -> None:
    # A one-letter handle is in 4 of 10 random draws: each must be drawn again.
    made = [random_password(handle="a", email="a@example.com") for _ in range(200)]
    for password in made:
        check_password(password, handle="a", email="a@example.com")
        assert "a" not in password.lower() and len(password) == 16
    assert len(set(made)) == len(made)
