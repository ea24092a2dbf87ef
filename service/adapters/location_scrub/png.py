"""A PNG without its location. Its chunks are walked up to ``IEND``; a chunk that is rewritten
gets a new CRC, every other chunk (the image data among them) is copied as it is:

* ``eXIf`` is rewritten without its GPS IFD; a chunk readers take for EXIF under another name
  (``zxIf``, a compressed EXIF that was never standardised, or another spelling) is dropped;
* text chunks (``tEXt``, ``zTXt``, ``iTXt``) that hold EXIF or XMP are rewritten: ImageMagick's
  hex-encoded "Raw profile type exif" (or ``APP1``, ``xmp``), and ``XML:com.adobe.xmp``; one
  whose hex cannot be read is dropped (no reader finds anything in it);
* whatever follows ``IEND`` is not kept.
"""

from __future__ import annotations

import struct
import zlib

from service.adapters.location_scrub import exif_gps, xmp_location
from service.adapters.location_scrub.source import METADATA_LIMIT, Source
from service.domain.errors import InvalidImage, LocationNotRemovable
from service.domain.scrub import Scrubbed

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
XMP_KEYWORD = b"XML:com.adobe.xmp"
RAW_PROFILES = (b"Raw profile type exif", b"Raw profile type APP1", b"Raw profile type xmp")
_LONGEST_KEYWORD = 79  # bytes, as the PNG specification allows
_HEX_LINE = 72  # hex digits a line, as ImageMagick writes its profiles


class _Unreadable(Exception):
    pass


def scrub(source: Source) -> Scrubbed:
    if source.read(8, "the PNG signature") != SIGNATURE:
        raise InvalidImage("The file is not a PNG")
    edits: list[tuple[int, int, bytes]] = []
    removed: list[str] = []
    while not source.at_end():
        start = source.position
        length, kind = struct.unpack(">I4s", source.read(8, "a chunk header"))
        body = _metadata(source, kind, length)
        if body is None:
            source.skip(length + 4, "a chunk")
        else:
            source.skip(4, "a chunk's CRC")
            edit = _rewritten(kind, body)
            if edit is not None:
                edits.append((start, source.position, edit[0]))
                removed.append(edit[1])
        if kind == b"IEND":
            if not source.at_end():
                removed.append("the data after the PNG's IEND chunk")
            break
    return Scrubbed.of(edits, source.position, removed)


def _metadata(source: Source, kind: bytes, length: int) -> bytes | None:
    """The body of a chunk that may hold EXIF or XMP, read; None for any other chunk, left
    unread (for a text chunk, all but its keyword)."""
    if kind.lower() in (b"exif", b"zxif"):
        return source.metadata(length, "an EXIF chunk")
    if kind not in TEXT_CHUNKS:
        return None
    head = source.metadata(min(length, _LONGEST_KEYWORD + 1), "a text chunk")
    if head.partition(b"\x00")[0] not in (XMP_KEYWORD, *RAW_PROFILES):
        source.skip(length - len(head), "a text chunk")
        return None
    return head + source.metadata(length - len(head), "a text chunk")


def _rewritten(kind: bytes, body: bytes) -> tuple[bytes, str] | None:
    """The chunk that replaces this one (empty: none) and what it removed, or None."""
    if kind == b"eXIf":
        try:
            rewritten = exif_gps.without_gps(body)
        except exif_gps.UnreadableExif:
            return None
        return None if rewritten is None else (_chunk(kind, rewritten), "the GPS IFD of eXIf")
    if kind.lower() in (b"exif", b"zxif"):
        return b"", f"a non-standard EXIF chunk ({kind.decode('latin-1')})"
    keyword, _, rest = body.partition(b"\x00")
    if keyword != XMP_KEYWORD and keyword not in RAW_PROFILES:
        return None
    try:
        header, text, compressed = _text(kind, rest)
        new_text = _scrubbed_text(keyword, text)
    except _Unreadable:
        return b"", f"an unreadable {keyword.decode()} text chunk"
    if new_text is None:
        return None
    if compressed:
        new_text = zlib.compress(new_text)
    what = f"the location in the {keyword.decode()} text chunk"
    return _chunk(kind, keyword + b"\x00" + header + new_text), what


def _text(kind: bytes, rest: bytes) -> tuple[bytes, bytes, bool]:
    """A text chunk's fields between keyword and text, its text (inflated), and whether the
    text was compressed."""
    if kind == b"tEXt":
        return b"", rest, False
    if kind == b"zTXt":
        return rest[:1], _inflated(rest[1:]), True
    flag, language_and_rest = rest[:2], rest[2:]
    language, _, rest = language_and_rest.partition(b"\x00")
    translated, _, text = rest.partition(b"\x00")
    header = flag + language + b"\x00" + translated + b"\x00"
    return (header, _inflated(text), True) if flag[:1] == b"\x01" else (header, text, False)


def _inflated(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, METADATA_LIMIT)
    except zlib.error as error:
        raise _Unreadable(str(error)) from None
    if inflater.unconsumed_tail:
        raise LocationNotRemovable(
            f"A compressed text chunk inflates to more than {METADATA_LIMIT} bytes, more than "
            "is read to find a location in it"
        )
    return text


def _scrubbed_text(keyword: bytes, text: bytes) -> bytes | None:
    if keyword == XMP_KEYWORD:
        return xmp_location.without_location(text)
    name, blob = _profile(text)
    if blob.startswith(xmp_location.XMP_HEADER) or keyword == b"Raw profile type xmp":
        header = xmp_location.XMP_HEADER if blob.startswith(xmp_location.XMP_HEADER) else b""
        packet = xmp_location.without_location(blob[len(header) :])
        return None if packet is None else _hex_profile(name, header + packet)
    try:
        exif = exif_gps.without_gps(blob)
    except exif_gps.UnreadableExif as error:
        raise _Unreadable(str(error)) from None
    return None if exif is None else _hex_profile(name, exif)


def _profile(text: bytes) -> tuple[bytes, bytes]:
    """ImageMagick's raw profile: ``\\n<name>\\n<length>\\n<hex, in lines>``."""
    fields = text.lstrip(b"\n").split(b"\n", 2)
    try:
        name, length, digits = fields[0], int(fields[1]), b"".join(fields[2].split())
        blob = bytes.fromhex(digits.decode("ascii"))
    except (IndexError, ValueError) as error:
        raise _Unreadable(str(error)) from None
    if len(blob) < length:
        raise _Unreadable("the profile is shorter than it says")
    return name, blob[:length]


def _hex_profile(name: bytes, blob: bytes) -> bytes:
    digits = blob.hex().encode()
    lines = [digits[i : i + _HEX_LINE] for i in range(0, len(digits), _HEX_LINE)]
    return b"\n" + name + b"\n" + b"%8d" % len(blob) + b"\n" + b"\n".join(lines) + b"\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", crc)
