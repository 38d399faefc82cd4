"""Uploaded files: which kinds are accepted, told from their bytes, and safe display names.

The type comes from the file's content (magic numbers, through the `filetype` library),
never from the name or the client's Content-Type: a `.png` that is an executable is an
executable, and is refused. The accepted kinds are those of Tallyfy's documented
extension list (office documents, PDF, RTF, plain text and CSV/XML, common images, audio
and video, ZIP, Photoshop, DWG). A file with no magic number is accepted as text only if
all of it is UTF-8 without control characters; it is then served as `text/plain`.
"""

import codecs
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import filetype

ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "application/rtf",
        "application/zip",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/postscript",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/bmp",
        "image/tiff",
        "image/vnd.adobe.photoshop",
        "image/vnd.dwg",
        "audio/mpeg",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    }
)
TEXT = "text/plain; charset=utf-8"
SNIFF_BYTES = 8192
FILENAME_MAX = 255
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r\f") | {"\x7f"}


class FileTypeRefused(ValueError):
    """The bytes are not of a kind procflow accepts."""


@dataclass(frozen=True)
class Detected:
    content_type: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def detect(head: bytes, chunks: Iterable[bytes]) -> Detected:
    """The file's type from its first bytes (`head`), or, for text, all of it (`chunks`)."""
    if not head:
        raise FileTypeRefused("The file is empty.")
    kind = filetype.guess(head[:SNIFF_BYTES])
    if kind is not None:
        if kind.mime not in ALLOWED_TYPES:
            raise FileTypeRefused(f"Files of type {kind.mime} are not allowed.")
        return Detected(kind.mime)
    if _is_text(chunks):
        return Detected(TEXT)
    raise FileTypeRefused("The file's type could not be recognised; it is not allowed.")


def _is_text(chunks: Iterable[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            if any(c in _CONTROL for c in decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def clean_filename(raw: str | None) -> str:
    """A display name: the last path segment, NFC, without control characters, ≤ 255 chars.

    It is data only (shown in answers and in Content-Disposition); it never names a path.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "file"
    return name[:FILENAME_MAX]
