"""`POST /organizations/{org}/runs/{id}/export`: a run as a CSV file.

Tallyfy's process export is a CSV download; Tallyfy's CLI (`process export`) writes the
body it gets to a file unchanged when it is not JSON, so the CSV is what it saves.
Values that are not text (lists, objects) are written as JSON; cells that a spreadsheet
would run as a formula are prefixed with an apostrophe.
"""

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Response

from procflow.api.dependencies import CurrentCaller, Db
from procflow.api.schemas.base import ERRORS
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import utcnow
from procflow.services import run_export

router = APIRouter(
    prefix="/organizations/{org_id}/runs", tags=["runs"], route_class=JsonRoute, responses=ERRORS
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return str(text)


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(run_export.COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in run_export.COLUMNS])
    return out.getvalue()


@router.post(
    "/{run_id}/export",
    summary="Export a process as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The process as CSV"}},
)
async def export_run(run_id: str, caller: CurrentCaller, uow: Db) -> Response:
    rows = run_export.export_run(uow, caller, run_id, utcnow())
    return Response(
        to_csv(rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="process-{run_id}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
