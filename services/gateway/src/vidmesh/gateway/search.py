"""Full-text search of videos (ListVideos `query`): PostgreSQL's `websearch_to_tsquery` over a
generated, weighted tsvector of title and description (GIN-indexed, migration 0006).

People type into a search box and expect results to follow the typing, so the last word of a
query also matches as a prefix ("holi" finds "holiday") unless it is quoted, excluded or
followed by a space; everything else is websearch syntax (words, "phrases", `or`, `-word`).
Matches in the title come back as code-point ranges (never as HTML) for the UI to highlight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, cast, func, literal, literal_column
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from vidmesh.common.validation import limit_text
from vidmesh.gateway.models import Video
from vidmesh.v1 import video_pb2

QUERY_MAX = 200
CONFIG = "english"
# Titles never hold control characters (they are refused), so these cannot collide.
_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, HighlightAll=true"
_LAST_WORD = re.compile(r"(?<![\w\-\"])(\w+)$")
_TRAILING_OR = re.compile(r"(?:^|\s)or$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Search:
    """A parsed query: the text (for page-token fingerprints) and its tsquery expression."""

    text: str
    tsquery: ColumnElement[Any]

    def matches(self) -> ColumnElement[bool]:
        return Video.search_vector.op("@@")(self.tsquery)

    def rank(self) -> ColumnElement[float]:
        # As double precision: a real read back through text is not the same number, and
        # page tokens compare ranks for equality.
        return cast(func.ts_rank(Video.search_vector, self.tsquery), DOUBLE_PRECISION)

    def headline(self) -> ColumnElement[str]:
        return func.ts_headline(_config(), Video.title, self.tsquery, _HEADLINE_OPTIONS)


def _config() -> ColumnElement[Any]:
    """The text-search configuration as a constant (a bind parameter would be text)."""
    return literal_column(f"'{CONFIG}'::regconfig")


def parse_query(text: str) -> Search | None:
    """The search for `text`, or None for an empty one; INVALID_ARGUMENT for a bad one."""
    typed = limit_text(text, "query", max_length=QUERY_MAX).lstrip()
    query = typed.strip()
    if not query:
        return None
    config = _config()
    words: ColumnElement[Any] = func.websearch_to_tsquery(config, query)
    last = _LAST_WORD.search(typed)  # a space after the last word finishes it
    if last is not None and query.count('"') % 2 == 0:
        head = typed[: last.start()].rstrip()
        prefix = func.to_tsquery(config, literal(f"{last.group(1)}:*"))
        joined = _TRAILING_OR.search(head)
        if joined is not None:  # "lisbon or cat…": either
            head = head[: joined.start()]
        operator = "||" if joined is not None else "&&"
        words = func.websearch_to_tsquery(config, head).op(operator)(prefix)
    return Search(text=query, tsquery=words)


def title_ranges(headline: str) -> list[video_pb2.TextRange]:
    """The marked stretches of a `ts_headline` of a title, as ranges of the unmarked title."""
    ranges: list[video_pb2.TextRange] = []
    position = 0
    start: int | None = None
    for character in headline:
        if character == _START:
            start = position
        elif character == _STOP:
            if start is not None and position > start:
                ranges.append(video_pb2.TextRange(start=start, end=position))
            start = None
        else:
            position += 1
    return ranges
