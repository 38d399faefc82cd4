"""Ranked full-text matches: FTS5 on SQLite, `tsvector` on PostgreSQL (see search_index).

`ranked` takes a select of the rows the caller may see and narrows it to those matching
every term, best match first, then newest, so the permission rules stay with the caller.
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
) -> tuple[list[Any], int]:
    """One page of the `visible` rows of `model` matching `terms`, and how many match."""
    if session.get_bind().dialect.name == "sqlite":
        query, rank = _sqlite(org_id, kind, model, visible, terms)
    else:
        query, rank = _postgres(model, visible, terms)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(
        query.order_by(rank, model.created_at.desc(), model.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


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
