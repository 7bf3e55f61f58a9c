"""Page tokens: opaque, bound to their query, strict about garbage."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from vidmesh.common.errors import InvalidArgument
from vidmesh.gateway import paging


def test_tokens_round_trip_for_the_same_query() -> None:
    cursor = paging.Cursor(datetime.now(UTC), uuid.uuid4())
    token = paging.encode_token(cursor, "q1")
    assert paging.decode_token(token, "q1") == cursor
    assert paging.decode_token("", "q1") is None


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "e30", "eyJjIjogMX0"])
def test_garbage_tokens_are_invalid(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        paging.decode_token(token, "q")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"


def test_a_token_for_another_query_is_invalid() -> None:
    token = paging.encode_token(paging.Cursor(datetime.now(UTC), uuid.uuid4()), "q1")
    with pytest.raises(InvalidArgument):
        paging.decode_token(token, "q2")


@pytest.mark.parametrize(("requested", "size"), [(0, 20), (5, 5), (100, 100), (1000, 100)])
def test_page_sizes(requested: int, size: int) -> None:
    assert paging.page_size(requested) == size


def test_negative_page_size() -> None:
    with pytest.raises(InvalidArgument):
        paging.page_size(-1)
