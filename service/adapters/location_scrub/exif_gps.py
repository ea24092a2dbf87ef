"""An EXIF block without its GPS IFD, rebuilt by Pillow (``Image.Exif.tobytes``): IFD0 and the
Exif sub-IFD are written back, the embedded IFD1 thumbnail is not carried over."""

from __future__ import annotations

from PIL import Image

from service.domain.errors import LocationNotRemovable

EXIF_HEADER = b"Exif\x00\x00"
TIFF_HEADERS = (b"II*\x00", b"MM\x00*")
EXIF_IFD = 0x8769
GPS_IFD = 0x8825


class UnreadableExif(Exception):
    """The block is no TIFF structure: nothing, Pillow included, reads anything from it."""


def is_tiff(block: bytes) -> bool:
    return block.removeprefix(EXIF_HEADER)[:4] in TIFF_HEADERS


def without_gps(block: bytes) -> bytes | None:
    """``block`` (TIFF, after an ``Exif\\0\\0`` header or not, as found) without its GPS IFD,
    with the same header; None when it has none."""
    tiff = block.removeprefix(EXIF_HEADER)
    if tiff[:4] not in TIFF_HEADERS:
        raise UnreadableExif("not a TIFF structure")
    exif = _loaded(tiff)
    if GPS_IFD not in exif:
        return None
    try:
        exif.get_ifd(EXIF_IFD)  # loaded, so that tobytes writes it back
        del exif[GPS_IFD]
        written = exif.tobytes().removeprefix(EXIF_HEADER)
    except Exception as error:
        raise LocationNotRemovable(
            "The EXIF block cannot be rewritten without its GPS",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    if GPS_IFD in _loaded(written):
        raise LocationNotRemovable("The EXIF block still names a GPS IFD once rewritten")
    return block[: len(block) - len(tiff)] + written


def _loaded(tiff: bytes) -> Image.Exif:
    exif = Image.Exif()
    try:
        exif.load(tiff)
    except Exception as error:
        raise UnreadableExif(str(error)) from None
    return exif
