"""Removing the location from JPEG, PNG and WebP (service/adapters/location_scrub): the image
data kept byte for byte, the containers left valid (CRCs, RIFF size, segment lengths), what is
not a location kept, and what cannot be edited refused. The XMP rules themselves:
tests/unit/test_xmp_location.py; exiftool's verdict on real upload paths:
tests/functional/test_stored_originals_hold_no_location.py."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from service.adapters import location_scrub
from service.adapters.location_scrub import jpeg
from service.adapters.location_scrub.source import Source
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import InvalidImage, LocationNotRemovable
from service.domain.scrub import Kept, Scrubbed
from tests.support import located_images as located
from tests.support.images import animated, encode, has_gps, png_chunk, scan_data

ORIENTATION = 0x0112


class Trickle:
    """A stream that hands out a few bytes a read, as a network stream may."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data, self._position, self._step = data, 0, step

    def read(self, size: int, /) -> bytes:
        chunk = self._data[self._position : self._position + min(size, self._step)]
        self._position += len(chunk)
        return chunk


def scrubbed(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """The bytes stored and what was removed."""
    result = location_scrub.without_location(io.BytesIO(data))
    return result.apply(data), result.removed


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """(kind, body, stored CRC) of every chunk of a PNG."""
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        chunks.append((kind, body, crc))
        position += 12 + length
    return chunks


def same_pixels(after: bytes, before: bytes) -> bool:
    with Image.open(io.BytesIO(after)) as a, Image.open(io.BytesIO(before)) as b:
        return (a.format, a.size, a.tobytes()) == (b.format, b.size, b.tobytes())


def orientation_of(data: bytes) -> int | None:
    with Image.open(io.BytesIO(data)) as image:
        value = image.getexif().get(ORIENTATION)
        return int(value) if value is not None else None


# --- EXIF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: located.jpeg(exif=located.exif_block(orientation=3)),
        lambda: located.png(None, png_chunk(b"eXIf", located.tiff_block())),
        lambda: located.webp(exif=located.exif_block(orientation=3)),
        lambda: located.webp(exif=located.exif_block(orientation=3), lossless=False),
    ],
    ids=["jpeg", "png", "webp-lossless", "webp-lossy"],
)
def test_the_gps_ifd_goes_and_the_pixels_and_the_rest_of_the_exif_stay(make: object) -> None:
    assert callable(make)
    original: bytes = make()
    assert has_gps(original)

    stored, removed = scrubbed(original)

    assert removed
    assert not has_gps(stored)
    assert same_pixels(stored, original)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.getexif()[0x010F] == "Canon"
    assert scrubbed(stored) == (stored, ())  # nothing left to remove


def test_a_jpeg_keeps_its_scan_data_byte_for_byte() -> None:
    original = located.jpeg(located.noise((64, 48)), exif=located.exif_block())

    stored, _ = scrubbed(original)

    assert scan_data(stored) == scan_data(original)
    assert len(stored) < len(original)


def test_a_rewritten_png_chunk_carries_a_valid_crc() -> None:
    stored, _ = scrubbed(located.png(None, png_chunk(b"eXIf", located.tiff_block())))

    chunks = png_chunks(stored)
    assert b"eXIf" in [kind for kind, _, _ in chunks]
    for kind, body, crc in chunks:
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind


def test_a_rewritten_webp_states_its_new_riff_size() -> None:
    original = located.webp(
        exif=located.exif_block(), xmp=located.xmp_packet(located.GPS_PROPERTIES)
    )

    stored, removed = scrubbed(original)

    assert len(removed) == 2
    assert len(stored) < len(original)
    (riff_size,) = struct.unpack("<I", stored[4:8])
    assert riff_size == len(stored) - 8


@pytest.mark.parametrize(
    "original",
    [
        located.jpeg(exif=located.exif_block(gps=False)),
        located.png(None, png_chunk(b"eXIf", located.tiff_block(gps=False))),
        located.webp(exif=located.exif_block(gps=False)),
        encode("GIF"),
    ],
    ids=["jpeg", "png", "webp", "gif"],
)
def test_an_upload_without_a_location_is_stored_as_it_is(original: bytes) -> None:
    result = location_scrub.without_location(io.BytesIO(original))

    assert result == Scrubbed.unchanged(len(original))
    assert result.pieces == (Kept(0, len(original)),)


def test_a_second_exif_segment_loses_its_gps_too() -> None:
    original = located.jpeg_with_two_exif_segments()

    stored, removed = scrubbed(original)

    assert removed == ("the GPS IFD of an EXIF block",)
    assert located.exif_block() not in stored
    assert scan_data(stored) == scan_data(original)


def test_an_exif_block_in_two_segments_is_rewritten_into_one() -> None:
    block = located.exif_block()
    head, tail = block[:40], block[40:]
    split = located.after_segments(
        located.jpeg(),
        1,
        located.segment(0xE1, head),
        located.segment(0xE1, b"Exif\x00\x00" + tail),
    )

    stored, removed = scrubbed(split)

    assert removed == ("the GPS IFD of an EXIF block",)
    assert stored.count(b"Exif\x00\x00") == 1
    assert not has_gps(stored)


def test_an_exif_segment_with_a_header_readers_tolerate_is_dropped() -> None:
    odd = located.segment(0xE1, b"Exif\x00\xff" + located.tiff_block())
    original = located.after_segments(located.jpeg(), 1, odd)

    stored, removed = scrubbed(original)

    assert removed == ("an EXIF segment with a non-standard header",)
    assert stored == located.jpeg()


def test_an_exif_block_that_is_no_tiff_is_kept() -> None:
    broken = located.segment(0xE1, b"Exif\x00\x00not a TIFF header at all")
    original = located.after_segments(located.jpeg(), 1, broken)

    assert scrubbed(original) == (original, ())


# --- JPEG structure -----------------------------------------------------------------------------


def test_fill_bytes_and_markers_without_a_length_are_copied_as_they_are() -> None:
    plain = located.jpeg(exif=located.exif_block())
    odd = plain[:2] + b"\xff\x01" + b"\xff\xff" + plain[2:]  # TEM, then fill bytes

    stored, removed = scrubbed(odd)

    assert removed
    assert stored.startswith(b"\xff\xd8\xff\x01\xff\xff\xff\xe0")
    assert scan_data(stored) == scan_data(plain)
    assert not has_gps(stored[:2] + stored[4:])


def test_a_progressive_jpeg_is_walked_to_its_end() -> None:
    original = located.jpeg(located.noise((64, 48)), progressive=True) + b"trailing"

    stored, removed = scrubbed(original)

    assert stored == original.removesuffix(b"trailing")
    assert removed == ("the data after the image's end-of-image marker",)


@pytest.mark.parametrize(
    "broken",
    [
        b"\xff\xd8\xff\xe1\x00\x01",  # a length shorter than its own two bytes
        b"\xff\xd8\xff\xe1\x01\x00Exif",  # a segment longer than the file
    ],
)
def test_a_jpeg_whose_segments_are_broken_is_an_invalid_image(broken: bytes) -> None:
    processor = PillowImageProcessor(max_pixels=4_000_000, max_frames=10)

    with pytest.raises(InvalidImage):
        processor.without_location(io.BytesIO(broken))


# --- trailers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "why"),
    [
        (
            located.jpeg_with_motion_photo_trailer(),
            "the data after the image's end-of-image marker",
        ),
        (located.png() + located.motion_photo_trailer(), "the data after the PNG's IEND chunk"),
        (located.webp() + located.motion_photo_trailer(), "the data after the RIFF's end"),
        (encode("GIF") + located.motion_photo_trailer(), "the data after the GIF's end"),
    ],
    ids=["jpeg", "png", "webp", "gif"],
)
def test_what_follows_the_image_is_not_kept(original: bytes, why: str) -> None:
    stored, removed = scrubbed(original)

    assert removed == (why,)
    assert stored == original.removesuffix(located.motion_photo_trailer())


# --- PNG text profiles ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "header"), [(b"zTXt", True), (b"tEXt", False), (b"zTXt", False)])
def test_an_exif_text_profile_is_rewritten_in_its_chunk_and_keeps_the_orientation(
    kind: bytes, header: bool
) -> None:
    blob = located.exif_block(orientation=6)
    blob = blob if header else blob.removeprefix(b"Exif\x00\x00")
    text = located.raw_profile("exif", blob)
    stored_text = b"\x00" + zlib.compress(text) if kind == b"zTXt" else text
    body = b"Raw profile type exif\x00" + stored_text
    original = located.png(None, png_chunk(kind, body))
    assert orientation_of(original) == 6
    assert has_gps(original)

    stored, removed = scrubbed(original)

    assert removed == ("the location in the Raw profile type exif text chunk",)
    assert [k for k, _, _ in png_chunks(stored)] == [k for k, _, _ in png_chunks(original)]
    assert not has_gps(stored)
    assert orientation_of(stored) == 6
    assert same_pixels(stored, original)
    for chunk_kind, chunk_body, crc in png_chunks(stored):
        assert zlib.crc32(chunk_kind + chunk_body) & 0xFFFFFFFF == crc


def test_an_xmp_text_profile_and_an_itxt_packet_lose_their_gps_and_keep_the_rest() -> None:
    profile = located.raw_profile("xmp", located.xmp_packet(located.GPS_PROPERTIES))
    with_itxt = located.png_with_xmp()
    text = png_chunk(b"tEXt", b"Raw profile type xmp\x00" + profile)
    original = with_itxt[:-12] + text + with_itxt[-12:]  # before IEND

    stored, removed = scrubbed(original)

    assert removed == (
        "the location in the XML:com.adobe.xmp text chunk",
        "the location in the Raw profile type xmp text chunk",
    )
    texts = {body.partition(b"\x00")[0]: body for kind, body, _ in png_chunks(stored)}
    itxt = texts[b"XML:com.adobe.xmp"]
    hex_lines = texts[b"Raw profile type xmp"].decode().split("\n")[3:]
    decoded_profile = bytes.fromhex("".join(hex_lines))
    for packet in (itxt, decoded_profile):
        assert b"GPS" not in packet
        assert b'tiff:Make="Canon"' in packet
    assert same_pixels(stored, original)


def test_a_text_profile_whose_hex_cannot_be_read_is_dropped() -> None:
    body = b"Raw profile type exif\x00\nexif\n      10\nnot hex at all\n"
    original = located.png(None, png_chunk(b"tEXt", body))

    stored, removed = scrubbed(original)

    assert removed == ("an unreadable Raw profile type exif text chunk",)
    assert stored == located.png()


def test_a_compressed_exif_chunk_readers_tolerate_is_dropped() -> None:
    compressed = b"\x00" * 5 + zlib.compress(located.tiff_block())
    original = located.png(None, png_chunk(b"zxIf", compressed))

    stored, removed = scrubbed(original)

    assert removed == ("a non-standard EXIF chunk (zxIf)",)
    assert stored == located.png()


# --- GIF ------------------------------------------------------------------------------------


def test_a_gif_xmp_extension_loses_its_position_and_keeps_its_frames_and_other_xmp() -> None:
    original = located.gif_with_xmp()

    stored, removed = scrubbed(original)

    assert removed == ("the location properties of the XMP extension",)
    assert b"GPSLatitude" not in stored
    assert b'tiff:Make="Canon"' in stored
    assert stored.endswith(b"\x3b")
    assert same_pixels(stored, original)
    assert scrubbed(stored) == (stored, ())


def test_an_animated_gif_without_xmp_is_walked_frame_by_frame_and_kept_as_it_is() -> None:
    original = animated(frames=4)

    assert scrubbed(original) == (original, ())
    assert scrubbed(original + b"after") == (original, ("the data after the GIF's end",))


# --- extended XMP -----------------------------------------------------------------------------


def test_an_extended_xmp_packet_is_rewritten_under_a_new_guid_the_standard_one_names() -> None:
    original = located.jpeg_with_extended_xmp()

    stored, removed = scrubbed(original)

    assert removed == ("the location properties of an extended XMP packet",)
    packets = extended_xmp(stored)
    assert len(packets) == 1
    ((guid, packet),) = packets.items()
    assert b"GPSLatitude" not in packet
    assert b"x" * 70_000 in packet  # the rest of the extension stays
    assert md5_guid(packet) == guid
    assert b"<xmpNote:HasExtendedXMP>" + guid + b"</xmpNote:HasExtendedXMP>" in stored
    assert scan_data(stored) == scan_data(original)


def extended_xmp(data: bytes) -> dict[bytes, bytes]:
    """The extended XMP packets of a JPEG, assembled, by GUID."""
    parts: dict[bytes, dict[int, bytes]] = {}
    position = 2
    while data[position + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        payload = data[position + 4 : position + 2 + length]
        if payload.startswith(located.XMP_EXTENSION):
            guid = payload[35:67]
            (offset,) = struct.unpack(">I", payload[71:75])
            parts.setdefault(guid, {})[offset] = payload[75:]
        position += 2 + length
    return {guid: b"".join(chunks[o] for o in sorted(chunks)) for guid, chunks in parts.items()}


def md5_guid(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).hexdigest().upper().encode()


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        located.jpeg_with_extended_xmp,
        located.jpeg_with_motion_photo_trailer,
        located.png_with_exif_profile,
        located.webp_with_xmp,
        located.gif_with_xmp,
        lambda: located.jpeg(
            located.noise((300, 200)), progressive=True, exif=located.exif_block()
        ),
    ],
)
def test_a_stream_read_a_few_bytes_at_a_time_is_scrubbed_as_bytes_are(make: object) -> None:
    assert callable(make)
    original: bytes = make()

    assert location_scrub.without_location(Trickle(original)) == location_scrub.without_location(
        io.BytesIO(original)
    )


def test_more_metadata_than_the_budget_is_refused() -> None:
    original = located.jpeg(exif=located.exif_block())

    with pytest.raises(LocationNotRemovable, match="more than 64 bytes of metadata"):
        jpeg.scrub(Source(io.BytesIO(original), metadata_limit=64))
