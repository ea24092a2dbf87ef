"""Input rules for what clients send: normalisation and limits, in one place (see README).

The constants here are the only spelling of each limit: the functions below apply them, and
the HTTP layer's schemas (hence the OpenAPI document) are built from them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

from service.domain.errors import InvalidInput

# What a custom metadata field may hold.
MetadataValue = str | int | float | bool | None

MAX_TAGS = 20
MAX_TAG_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 2000
MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 1024
MAX_USER_ID_LENGTH = 128
MAX_FILENAME_LENGTH = 255
# A taken_from/taken_to listing of all users walks month buckets: at most this many.
MAX_TAKEN_SPAN_MONTHS = 120
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# Request bodies. An upload may be MAX_FILE_SIZE (a setting) plus the form around the file;
# every other body is JSON, and small.
MAX_JSON_BODY_BYTES = 64 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024
# Text fields are small and the file part is spooled to a temporary file. werkzeug applies
# this cap to its parse buffer too (leftover + one 64 KiB read), so it must stay well above
# 64 KiB or valid uploads get a random 413.
FORM_MEMORY_BYTES = 256 * 1024

# Query strings. gunicorn reads a request line of at most MAX_REQUEST_LINE bytes (its own
# ceiling; past it gunicorn answers 414 itself, in HTML). The query limits below keep every
# request the OpenAPI document allows within it, percent-encoding included (a character is
# up to 12 bytes: %F0%9F%98%80); a test checks the longest such request line against it.
MAX_REQUEST_LINE = 8190
MAX_HEADER_FIELD_SIZE = 8190
MAX_HEADER_FIELDS = 100
MAX_FILTER_TAGS = 5  # tags of one listing query (an image may carry MAX_TAGS)
MAX_CURSOR_LENGTH = 2048
MAX_DATE_TEXT_LENGTH = 40  # 2026-11-05T10:30:00.123456+01:00 is 32

# Used with fullmatch: '$' would also accept a trailing newline.
USER_ID_PATTERN = re.compile(rf"[A-Za-z0-9_.@-]{{1,{MAX_USER_ID_LENGTH}}}")
# A normalised tag: letters and digits of any script, with - and _ and single inner spaces.
# No '#' or ',' (they delimit keys and query lists).
TAG_PATTERN = re.compile(r"[^\W_](?:[\w-]| (?! ))*")
# A tag as sent, before tag() trims the spaces around it, collapses the runs of spaces inside
# and applies NFKC and case folding. ([^\W_] is exactly Unicode's letters and digits, L and N:
# the OpenAPI document spells it [\p{L}\p{N}].)
TAG_AS_SENT_PATTERN = re.compile(r" *[^\W_][\w -]*")
METADATA_KEY_PATTERN = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_METADATA_KEY_LENGTH}}}")
# What CursorCodec (itsdangerous, URL-safe) produces.
CURSOR_PATTERN = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_CURSOR_LENGTH}}}")

CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
UNDECLARED_CONTENT_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def user_id(value: str) -> str:
    if not USER_ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            "Invalid user_id",
            {"user_id": ["1-128 characters among letters, digits and _ . @ -"]},
        )
    return value


def tag(value: str) -> str:
    """Check the tag as sent, then trim, collapse inner spaces, case-fold (NFKC), check again."""
    normalised = ""
    if len(value) <= MAX_TAG_LENGTH and TAG_AS_SENT_PATTERN.fullmatch(value):
        normalised = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    if not normalised or len(normalised) > MAX_TAG_LENGTH or not TAG_PATTERN.fullmatch(normalised):
        raise InvalidInput(
            f"Invalid tag {value[:80]!r}",
            {
                "tags": [
                    f"tags are 1-{MAX_TAG_LENGTH} letters, digits, '-', '_' or single spaces, "
                    "starting with a letter or digit"
                ]
            },
        )
    return normalised


def tags(values: Sequence[str]) -> tuple[str, ...]:
    """At most MAX_TAGS as given (counted first), normalised, de-duplicated (first wins)."""
    if len(values) > MAX_TAGS:
        raise InvalidInput(f"Too many tags: {len(values)}", {"tags": [f"at most {MAX_TAGS} tags"]})
    return tuple(dict.fromkeys(tag(value) for value in values))


NOT_UNICODE = "not valid Unicode (a lone UTF-16 surrogate)"


def is_unicode(value: str) -> bool:
    """False for a string holding a lone surrogate: JSON can spell one, UTF-8 cannot store it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def description(value: str) -> str:
    """At most MAX_DESCRIPTION_LENGTH characters as sent; then trimmed."""
    if not is_unicode(value):
        raise InvalidInput("Invalid description", {"description": [NOT_UNICODE]})
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(
            "Description too long",
            {"description": [f"at most {MAX_DESCRIPTION_LENGTH} characters"]},
        )
    return value.strip()


def metadata(values: Mapping[str, object]) -> dict[str, MetadataValue]:
    """Custom fields: scalar values only, bounded keys and values."""
    problems: dict[str, list[str]] = {}
    result: dict[str, MetadataValue] = {}
    if len(values) > MAX_METADATA_KEYS:
        raise InvalidInput(
            "Too many custom fields", {"metadata": [f"at most {MAX_METADATA_KEYS} fields"]}
        )
    for key, value in values.items():
        if not isinstance(key, str) or not METADATA_KEY_PATTERN.fullmatch(key):
            # A multipart part without a name arrives with the name None.
            problems[str(key)] = ["field names are 1-64 letters, digits, '_', '.' or '-'"]
        elif isinstance(value, float) and not math.isfinite(value):
            problems[key] = ["numbers must be finite"]
        elif isinstance(value, str) and len(value) > MAX_METADATA_VALUE_LENGTH:
            problems[key] = [f"at most {MAX_METADATA_VALUE_LENGTH} characters"]
        elif isinstance(value, str) and not is_unicode(value):
            problems[key] = [NOT_UNICODE]
        elif value is None or isinstance(value, str | int | float | bool):
            result[key] = value
        else:
            problems[key] = ["values must be strings, numbers, booleans or null"]
    if problems:
        raise InvalidInput("Invalid custom metadata", {"metadata": problems})
    return result


def content_type(value: str | None) -> str | None:
    """A declared MIME type, lower-cased and de-aliased; None when nothing useful is declared."""
    if value is None:
        return None
    base = value.split(";", 1)[0].strip().lower()
    if base in UNDECLARED_CONTENT_TYPES:
        return None
    return CONTENT_TYPE_ALIASES.get(base, base)


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")


def filename(value: str | None, *, fallback: str) -> str:
    """A display name safe for Content-Disposition: base name, printable, bounded."""
    base = (value or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    base = base.strip().strip(".")[:MAX_FILENAME_LENGTH]
    return base or fallback


def ascii_filename(value: str) -> str:
    """The ASCII fallback of a filename for the plain ``filename=`` parameter."""
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _UNSAFE_FILENAME.sub("_", ascii_only).strip() or "image"
