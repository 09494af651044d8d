"""Records built positionally must keep their field order in step with the column lists."""

from __future__ import annotations

import dataclasses

from storage.accounts import _ACCOUNT_NAMES, Account


def test_account_fields_match_the_selected_columns() -> None:
    assert [f.name for f in dataclasses.fields(Account)] == list(_ACCOUNT_NAMES)
