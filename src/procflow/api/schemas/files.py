"""The asset object and the multipart upload body, as Tallyfy documents them."""

from typing import Any

from procflow.api.schemas.base import Output


class AssetSubject(Output):
    id: str
    type: str


class AssetOut(Output):
    """An uploaded file. `uploaded_from` is the form field's id or `ko_field`; `subject`
    names what it was uploaded for (`Run`, `Checklist` or `Task`)."""

    id: str
    filename: str
    version: int
    uploaded_from: str
    uploaded_at: str
    step_id: str | None
    source: str
    system: str | None
    uploaded_to_s3: bool
    subject: AssetSubject


class AssetEnvelope(Output):
    data: AssetOut


_TEXT = {"type": "string", "maxLength": 64}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "subject_type", "subject_id", "uploaded_from"],
                    "properties": {
                        "name": {"type": "string", "format": "binary"},
                        "subject_type": {"type": "string", "enum": ["Run", "Checklist", "Task"]},
                        "subject_id": _TEXT,
                        "uploaded_from": _TEXT,
                        "step_id": _TEXT,
                        "checklist_id": _TEXT,
                        "source": {"type": "string", "enum": ["local", "url"]},
                        "system": _TEXT,
                    },
                }
            }
        },
    }
}
