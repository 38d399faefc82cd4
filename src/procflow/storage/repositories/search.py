"""Ranked full-text matches: FTS5 on SQLite, `tsvector` on PostgreSQL (see search_index).

`ranked` takes a select of the rows the caller may see and narrows it to those matching
every term, best match first, then newest, so the permission rules stay with the caller.

On SQLite the index's `scope` token (kind, organization, and an `x` for rows no search may
show: see migration 0012) already holds everything but a light member's narrower view. So
for a caller who sees the whole kind, the count and the page come from the index alone
(the rank, and the tie-break date kept in `search_key`), and only the page's rows are read.
Reading every matching row to filter and count cost more than the match over 100,000 runs.
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

from procflow.domain.search_terms import fts5_query, tsquery
from procflow.storage.search_index import VECTOR_COLUMN

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


_COUNT = text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :match")
_PAGE = text(
    "SELECT k.object_id FROM search_fts JOIN search_key AS k ON k.doc = search_fts.rowid"
    " WHERE search_fts MATCH :match AND +k.kind = :kind"
    " ORDER BY bm25(search_fts, 10.0, 1.0, 0.0), k.created_at DESC, k.object_id"
    " LIMIT :limit OFFSET :offset"
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
    match = fts5_query(terms, kind + org_id)
    total = session.scalar(_COUNT, {"match": match})
    ids = list(
        session.scalars(_PAGE, {"match": match, "kind": kind, "limit": limit, "offset": offset})
    )
    if not ids:
        return [], int(total or 0)
    # One lookup per id: with `id IN (...)` beside the organization's equality SQLite
    # prefers the (org_id, archived_at) index and reads every row of the organization.
    rows = [session.scalars(visible.where(model.id == i)).first() for i in ids]
    return [row for row in rows if row is not None], int(total or 0)


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
