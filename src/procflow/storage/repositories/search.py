"""Ranked full-text matches: FTS5 on SQLite, `tsvector` on PostgreSQL (see search_index).

`ranked` takes a select of the rows the caller may see and narrows it to those matching
every term, best match first, then newest, so the permission rules stay with the caller.

On SQLite the index holds everything but a light member's narrower view: each kind of each
organization has its own range of rowids, in date order inside it, and a row no search may
show carries an `x` after its `scope` token (migrations 0012 and 0014). So for a caller
who sees the whole kind, the count and the page come from the index alone (the words
matched inside the range, ranked by `bm25`, then newest first by rowid) and only the
page's rows are read. Matching a `scope` token instead made `bm25` read through the
token's list of every row of the kind, and reading each match's date from `search_key`
cost about as much as the ranking.
"""

from typing import Any

from sqlalchemy import (
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from procflow.domain.search_terms import fts5_query, fts5_words, tsquery
from procflow.storage.search_index import RANGE_BITS, VECTOR_COLUMN

_FTS = table("search_fts", column("rowid"))
_KEY = table("search_key", column("doc"), column("kind"), column("object_id"))
# Title matches count ten times body matches, on both engines (bm25 weights; A/B ranks).
_BM25: Any = literal_column("bm25(search_fts, 10.0, 1.0, 0.0)")
_WEIGHTS: Any = literal_column("'{0.1, 0.1, 0.1, 1.0}'::float4[]")


def ranked(
    session: Session,
    org_id: str,
    kind: str,
    model: Any,
    visible: Select[Any],
    terms: list[str],
    offset: int,
    limit: int,
    *,
    whole_kind: bool = False,
) -> tuple[list[Any], int]:
    """One page of the `visible` rows of `model` matching `terms`, and how many match.
    `whole_kind`: the caller may see every row of the kind that is not archived (`visible`
    narrows no further than the index's scope does)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and whole_kind:
        return _sqlite_indexed(session, org_id, kind, model, visible, terms, offset, limit)
    if sqlite:
        query, rank = _sqlite(org_id, kind, model, visible, terms)
    else:
        query, rank = _postgres(model, visible, terms)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(
        query.order_by(rank, model.created_at.desc(), model.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


_RANGE = text("SELECT id FROM search_scope WHERE kind = :kind AND org_id = :org")
_COUNT = text(
    "SELECT count(*) FROM search_fts WHERE search_fts MATCH :match AND rowid BETWEEN :low AND :high"
)
# Newest first among equal scores: inside a range the rowid order is the date order.
_PAGE = text(
    "SELECT k.object_id FROM (SELECT rowid AS doc, bm25(search_fts, 10.0, 1.0, 0.0) AS score"
    " FROM search_fts WHERE search_fts MATCH :match AND rowid BETWEEN :low AND :high"
    " ORDER BY score, rowid DESC LIMIT :limit OFFSET :offset) AS page"
    " JOIN search_key AS k ON k.doc = page.doc ORDER BY page.score, page.doc DESC"
)


def _sqlite_indexed(
    session: Session,
    org_id: str,
    kind: str,
    model: Any,
    visible: Select[Any],
    terms: list[str],
    offset: int,
    limit: int,
) -> tuple[list[Any], int]:
    scope = session.scalar(_RANGE, {"kind": kind, "org": org_id})
    if scope is None:
        return [], 0
    where = {
        "match": fts5_words(terms, kind + org_id),
        "low": scope << RANGE_BITS,
        "high": ((scope + 1) << RANGE_BITS) - 1,
    }
    total = int(session.scalar(_COUNT, where) or 0)
    if total <= offset:
        return [], total
    ids = list(session.scalars(_PAGE, where | {"limit": limit, "offset": offset}))
    # One lookup per id: with `id IN (...)` beside the organization's equality SQLite
    # prefers the (org_id, archived_at) index and reads every row of the organization.
    rows = [session.scalars(visible.where(model.id == i)).first() for i in ids]
    return [row for row in rows if row is not None], total


def _sqlite(
    org_id: str, kind: str, model: Any, visible: Select[Any], terms: list[str]
) -> tuple[Any, Any]:
    matches = (
        select(_KEY.c.object_id.label("object_id"), _BM25.label("rank"))
        .select_from(_FTS.join(_KEY, _KEY.c.doc == _FTS.c.rowid))
        .where(text("search_fts MATCH :match").bindparams(match=fts5_query(terms, kind + org_id)))
        # `+` keeps SQLite from driving the join by the (kind, object_id) index, which
        # would run the MATCH once per row of the kind instead of once.
        .where(literal_column("+search_key.kind") == kind)
        .subquery("matches")
    )
    return visible.join(matches, matches.c.object_id == model.id), matches.c.rank


def _postgres(model: Any, visible: Select[Any], terms: list[str]) -> tuple[Any, Any]:
    vector: Any = literal_column(f"{model.__tablename__}.{VECTOR_COLUMN}")
    wanted = func.to_tsquery(
        literal_column("'simple'::regconfig"), bindparam("tsquery", tsquery(terms))
    )
    query = visible.where(vector.op("@@")(wanted))
    return query, func.ts_rank(_WEIGHTS, vector, wanted).desc()
