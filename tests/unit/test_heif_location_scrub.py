"""Removing the location from HEIC and AVIF (service/adapters/location_scrub/heif.py): the EXIF
item's GPS IFD and the XMP item's position blanked where they lie, every offset and every other
byte kept, the file read front to back; what cannot be rewritten in place refused. exiftool's
verdict: tests/integration/test_heif_exiftool.py."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from service.adapters import location_scrub
from service.adapters.location_scrub import exif_gps, isobmff, xmp_location
from service.adapters.location_scrub.heif import scrub
from service.adapters.location_scrub.source import Source
from service.adapters.pillow_processor import PillowImageProcessor
from service.domain.errors import LocationNotRemovable
from service.domain.scrub import Kept, Written
from tests.support import heif_images as heif
from tests.support.located_images import GPS_PROPERTIES, motion_photo_trailer, xmp_packet

FORMATS = pytest.mark.parametrize("fmt", ["HEIF", "AVIF"], ids=["heic", "avif"])


class Trickle:
    """A stream that hands out a few bytes a read, as a network stream may."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data, self._position, self._step = data, 0, step

    def read(self, size: int, /) -> bytes:
        chunk = self._data[self._position : self._position + min(size, self._step)]
        self._position += len(chunk)
        return chunk


def scrubbed(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    result = location_scrub.without_location(io.BytesIO(data))
    return result.apply(data), result.removed


def all_items(data: bytes) -> list[isobmff.Item]:
    meta = next(box for box in isobmff.children(data, 0, len(data)) if box.kind == b"meta")
    return isobmff.items(data[meta.start : meta.end])


def metadata_items(data: bytes) -> list[isobmff.Item]:
    return [item for item in all_items(data) if item.kind in (b"Exif", b"mime")]


def item_bytes(data: bytes, item: isobmff.Item) -> bytes:
    return b"".join(data[offset : offset + length] for offset, length in item.extents)


@FORMATS
def test_the_gps_ifd_and_the_xmp_position_go_and_the_rest_stays(fmt: str) -> None:
    original = heif.located(fmt)

    stored, removed = scrubbed(original)

    assert removed == ("the location of the Exif item 2", "the location of the XMP item 3")
    assert len(stored) == len(original)
    with Image.open(io.BytesIO(stored)) as after, Image.open(io.BytesIO(original)) as before:
        assert (after.size, after.tobytes()) == (before.size, before.tobytes())
        exif = after.getexif()
        assert exif_gps.GPS_IFD not in exif
        assert (exif[heif.MAKE], exif[heif.MODEL]) == ("Apple", "iPhone 15 Pro")
        assert exif.get_ifd(heif.EXIF_IFD)[heif.DATE_TIME_ORIGINAL] == "2024:05:01 10:20:30"
        xmp = after.info["xmp"]
        assert b'tiff:Make="Canon"' in xmp
        assert b"GPS" not in xmp
    assert scrubbed(stored) == (stored, ())  # nothing left to remove


@FORMATS
def test_only_the_metadata_items_bytes_change(fmt: str) -> None:
    """The meta box, every offset it gives and the image data are byte for byte the same: the
    pieces are the kept bytes around the items' rewritten extents."""
    original = heif.located(fmt)
    extents = [extent for item in metadata_items(original) for extent in item.extents]

    result = location_scrub.without_location(io.BytesIO(original))

    written = [piece for piece in result.pieces if isinstance(piece, Written)]
    assert written
    assert sum(piece.size for piece in written) == sum(length for _, length in extents)
    assert result.size == len(original)
    assert result.pieces[0] == Kept(0, extents[0][0])  # ftyp, meta, the image data first
    stored = result.apply(original)
    changed = [i for i in range(len(original)) if stored[i] != original[i]]
    assert all(any(o <= i < o + n for o, n in extents) for i in changed)


def test_a_grid_heic_as_phones_write_them_is_scrubbed() -> None:
    """Tiles, the grid item in the meta box's idat (iloc version 1): only the EXIF and XMP
    items change."""
    original = heif.located("HEIF", Image.new("RGB", (128, 96), "gray"), tile_size=64)
    assert any(item.construction_method == 1 for item in all_items(original))

    stored, removed = scrubbed(original)

    assert removed == ("the location of the Exif item 6", "the location of the XMP item 7")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (128, 96)
        assert exif_gps.GPS_IFD not in image.getexif()
        image.load()


@FORMATS
def test_a_file_without_a_location_is_stored_as_it_is(fmt: str) -> None:
    original = heif.encoded(fmt, exif=heif.phone_exif(gps=False), xmp=xmp_packet(""))

    result = location_scrub.without_location(io.BytesIO(original))

    assert result.removed == ()
    assert result.pieces == (Kept(0, len(original)),)


@FORMATS
def test_a_stream_read_a_few_bytes_at_a_time_is_scrubbed_as_bytes_are(fmt: str) -> None:
    original = heif.located(fmt, heif.noise((64, 48)))

    assert location_scrub.without_location(Trickle(original)) == location_scrub.without_location(
        io.BytesIO(original)
    )


def test_the_processor_scrubs_a_heic_and_the_result_still_decodes() -> None:
    original = heif.located("HEIF")
    processor = PillowImageProcessor(max_pixels=1_000_000, max_frames=1)

    stored = processor.without_location(io.BytesIO(original)).apply(original)

    info = processor.inspect(io.BytesIO(stored), accepted=("image/heic",))
    assert info.location is None
    assert info.exif is not None
    assert (info.exif.make, info.exif.gps_present) == ("Apple", False)


def test_the_exif_block_is_blanked_to_its_own_length() -> None:
    block = heif.phone_exif()

    blanked = exif_gps.blanked_gps(block)

    assert blanked is not None
    assert len(blanked) == len(block)
    exif = Image.Exif()
    exif.load(blanked)
    assert exif_gps.GPS_IFD not in exif
    assert exif[heif.MAKE] == "Apple"
    assert exif.get_ifd(heif.EXIF_IFD)[heif.OFFSET_TIME_ORIGINAL] == "+02:00"
    assert exif_gps.blanked_gps(blanked) is None


def test_the_xmp_position_becomes_as_many_spaces() -> None:
    packet = xmp_packet(GPS_PROPERTIES)

    blanked = xmp_location.blanked_location(packet)

    assert blanked is not None
    assert len(blanked) == len(packet)
    assert blanked.replace(b" ", b"") == (xmp_location.without_location(packet) or b"").replace(
        b" ", b""
    )


def test_a_top_level_xmp_box_is_blanked_in_place() -> None:
    packet = xmp_packet(GPS_PROPERTIES)
    original = heif.encoded("HEIF") + heif.box(b"uuid", isobmff.XMP_UUID + packet)

    stored, removed = scrubbed(original)

    assert removed == ("the location properties of the XMP box",)
    assert stored[-len(packet) :] == xmp_location.blanked_location(packet)
    assert stored[: -len(packet)] == original[: -len(packet)]


def test_tracks_that_name_a_position_are_refused() -> None:
    """A ``moov`` box whose user data holds a ``©xyz`` position (as a video's does)."""
    moov = motion_photo_trailer()[len(heif.box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")) :]
    original = heif.encoded("HEIF") + moov

    with pytest.raises(LocationNotRemovable, match="tracks carry metadata that names a location"):
        scrubbed(original)


@pytest.mark.parametrize("kind", [b"meta", b"moov"])
def test_a_metadata_box_without_a_size_is_refused(kind: bytes) -> None:
    """A box of size 0 runs to the end of the file: one that may hold a location is not read."""
    original = heif.encoded("HEIF") + struct.pack(">I4s", 0, kind) + bytes(64)

    with pytest.raises(LocationNotRemovable, match="runs to its end without a size"):
        scrubbed(original)


def test_an_avif_sequence_without_a_location_in_its_tracks_is_kept() -> None:
    frames = [heif.noise((32, 24)) for _ in range(2)]
    original = heif.encoded("AVIF", frames[0], save_all=True, append_images=frames[1:])

    assert scrubbed(original) == (original, ())


def test_what_follows_the_last_box_is_not_kept() -> None:
    original = heif.located("HEIF")

    stored, removed = scrubbed(original + b"\x00\x00\x00")

    assert removed[-1] == "the data after the file's last box"
    assert len(stored) == len(original)


@pytest.mark.parametrize("method", [1, 2], ids=["idat", "other-items"])
def test_an_exif_item_not_stored_at_its_offsets_is_refused(method: int) -> None:
    original = heif.with_items_constructed(heif.located("HEIF"), method, kinds=(b"Exif",))

    with pytest.raises(LocationNotRemovable, match="is not stored at the offsets"):
        scrubbed(original)


def test_an_xmp_item_not_stored_at_its_offsets_is_refused() -> None:
    original = heif.with_items_constructed(heif.located("HEIF"), 1, kinds=(b"mime",))

    with pytest.raises(LocationNotRemovable, match="XMP item 3 is not stored at the offsets"):
        scrubbed(original)


def test_an_exif_item_that_holds_no_tiff_block_is_refused() -> None:
    """A compressed EXIF item (or any other form that is not a TIFF block where it says)."""
    original = bytearray(heif.located("HEIF"))
    exif = next(item for item in metadata_items(bytes(original)) if item.kind == b"Exif")
    offset, _ = exif.extents[0]
    start = offset + 4 + int.from_bytes(original[offset : offset + 4], "big")
    original[start : start + 4] = b"\x78\x9c\x01\x02"  # a zlib stream's start

    with pytest.raises(LocationNotRemovable, match="holds no TIFF block"):
        scrubbed(bytes(original))


def test_a_protected_item_is_refused() -> None:
    original = bytearray(heif.located("HEIF"))
    infe = original.index(b"infe", original.index(b"Exif") - 16) - 4  # the Exif item's entry
    struct.pack_into(">H", original, infe + 8 + 4 + 2, 1)  # its protection index

    with pytest.raises(LocationNotRemovable, match="is protected"):
        scrubbed(bytes(original))


def test_an_item_that_lies_before_its_meta_box_is_refused() -> None:
    """The file is read once, front to back: an item placed before the meta box that names it
    has been passed by then."""
    original = heif.located("HEIF")
    exif = next(item for item in metadata_items(original) if item.kind == b"Exif")
    data = item_bytes(original, exif)
    ftyp = next(isobmff.children(original, 0, len(original)))
    moved = original[: ftyp.end] + heif.box(b"free", data) + original[ftyp.end :]
    pointed = bytearray(moved)
    iloc = bytes(pointed).index(b"iloc")
    old = struct.pack(">I", exif.extents[0][0])
    where = bytes(pointed).index(old, iloc)
    struct.pack_into(">I", pointed, where, ftyp.end + 8)

    with pytest.raises(LocationNotRemovable, match="lies before the meta box that names it"):
        scrub(Source(io.BytesIO(bytes(pointed))))
