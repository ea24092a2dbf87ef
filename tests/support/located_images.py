"""Images that carry a location where a camera, a phone or a tool leaves one, built here with
Pillow and by hand (chunks, segments, atoms), no binary fixture: each names where its position
hides. exiftool reads a position in every one of them (tests/support/exiftool.py)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib

from PIL import Image, PngImagePlugin

from tests.support.images import png_chunk

EXIF_NAMESPACE = "http://ns.adobe.com/exif/1.0/"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
PARIS = ((48.0, 51.0, 29.5), (2.0, 17.0, 40.0))


def pixels(size: tuple[int, int] = (20, 10)) -> Image.Image:
    """Red on the left, blue on the right."""
    image = Image.new("RGB", size, "red")
    image.paste(Image.new("RGB", (size[0] // 2, size[1]), "blue"), (size[0] // 2, 0))
    return image


def noise(size: tuple[int, int]) -> Image.Image:
    """Pixels that do not compress: a file of a few MiB from few pixels."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def exif_block(*, gps: bool = True, orientation: int = 1) -> bytes:
    """``Exif\\0\\0`` and a TIFF block: a camera make and orientation, and a position."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = orientation
    if gps:
        position = exif.get_ifd(0x8825)
        position.update({1: "N", 2: PARIS[0], 3: "E", 4: PARIS[1]})
    return exif.tobytes()


def tiff_block(*, gps: bool = True) -> bytes:
    """``exif_block`` without its header, as PNG's eXIf chunk holds it."""
    return exif_block(gps=gps).removeprefix(b"Exif\x00\x00")


def xmp_packet(properties: str, namespaces: str = f'xmlns:exif="{EXIF_NAMESPACE}"') -> bytes:
    """An XMP packet whose one rdf:Description declares ``namespaces`` and holds
    ``properties`` (elements)."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" {namespaces}\n'
        '    xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Make="Canon">\n'
        f"   {properties}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n" + " " * 200 + '\n<?xpacket end="w"?>'
    ).encode()


GPS_PROPERTIES = (
    "<exif:GPSLatitude>48,51.4917N</exif:GPSLatitude>"
    "<exif:GPSLongitude>2,17.6667E</exif:GPSLongitude>"
)
# The exif namespace under another prefix, and as the default namespace of its elements.
RENAMED_GPS = (
    '<where:GPSLatitude xmlns:where="http://ns.adobe.com/exif/1.0/">48,51.4917N</where:GPSLatitude>'
    f'<GPSLongitude xmlns="{EXIF_NAMESPACE}">2,17.6667E</GPSLongitude>'
)


def jpeg(image: Image.Image | None = None, **options: object) -> bytes:
    buffer = io.BytesIO()
    (image or pixels()).save(buffer, format="JPEG", **({"quality": 90} | options))
    return buffer.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def after_segments(data: bytes, count: int, *segments: bytes) -> bytes:
    """``data`` (a JPEG) with ``segments`` inserted after its first ``count`` segments."""
    cut = 2
    for _ in range(count):
        (length,) = struct.unpack(">H", data[cut + 2 : cut + 4])
        cut += 2 + length
    return data[:cut] + b"".join(segments) + data[cut:]


def jpeg_with_xmp_gps(properties: str = GPS_PROPERTIES) -> bytes:
    """(b, c) A JPEG whose only position is in its XMP packet."""
    return jpeg(xmp=xmp_packet(properties))


def jpeg_with_two_exif_segments() -> bytes:
    """(e) The first APP1 Exif without GPS, as Pillow reads it; a second one with."""
    plain = jpeg(exif=exif_block(gps=False))  # APP0 (JFIF), APP1 (Exif), ...
    return after_segments(plain, 2, segment(0xE1, exif_block()))


def jpeg_with_extended_xmp() -> bytes:
    """A JPEG whose position is in its extended XMP: a packet too large for one segment, in
    two, named by the standard packet (xmpNote:HasExtendedXMP, the MD5 of the extension)."""
    filler = "<exif:UserComment>" + "x" * 70_000 + "</exif:UserComment>"
    extension = xmp_packet(GPS_PROPERTIES + filler).replace(b"Canon", b"Canon EOS")
    guid = hashlib.md5(extension, usedforsecurity=False).hexdigest().upper()
    standard = xmp_packet(
        f"<xmpNote:HasExtendedXMP>{guid}</xmpNote:HasExtendedXMP>",
        'xmlns:xmpNote="http://ns.adobe.com/xmp/note/"',
    )
    parts = [
        segment(
            0xE1,
            XMP_EXTENSION
            + guid.encode()
            + struct.pack(">II", len(extension), offset)
            + extension[offset : offset + 60_000],
        )
        for offset in range(0, len(extension), 60_000)
    ]
    return after_segments(jpeg(), 1, segment(0xE1, XMP_HEADER + standard), *parts)


def motion_photo_trailer() -> bytes:
    """An MP4 whose user data holds a ``©xyz`` position, as a Motion Photo's video does."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    where = b"+48.8582+002.2944/"
    xyz = box(b"\xa9xyz", struct.pack(">HH", len(where), 0x15C7) + where)
    return box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom") + box(b"moov", box(b"udta", xyz))


def jpeg_with_motion_photo_trailer() -> bytes:
    """(f) A JPEG followed, after its end-of-image marker, by a video with a position."""
    return jpeg() + motion_photo_trailer()


def png(image: Image.Image | None = None, *chunks: bytes, before_data: bool = True) -> bytes:
    """A PNG with ``chunks`` before its first IDAT (or before IEND)."""
    buffer = io.BytesIO()
    (image or pixels()).save(buffer, format="PNG", compress_level=1)
    data = buffer.getvalue()
    cut = data.index(b"IDAT") - 4 if before_data else len(data) - 12
    return data[:cut] + b"".join(chunks) + data[cut:]


def raw_profile(name: str, blob: bytes) -> bytes:
    """ImageMagick's text form of a profile: name, length, then hex in lines of 72 digits."""
    digits = blob.hex()
    lines = "\n".join(digits[i : i + 72] for i in range(0, len(digits), 72))
    return f"\n{name}\n{len(blob):8d}\n{lines}\n".encode()


def png_with_exif_profile(kind: bytes = b"zTXt", *, header: bool = True, **options: bool) -> bytes:
    """(a) A PNG whose EXIF is ImageMagick's "Raw profile type exif" text chunk (zTXt, as
    ImageMagick writes it, or tEXt), its TIFF after an ``Exif\\0\\0`` header or not."""
    blob = exif_block() if header else exif_block().removeprefix(b"Exif\x00\x00")
    text = raw_profile("exif", blob)
    body = b"Raw profile type exif\x00" + (
        b"\x00" + zlib.compress(text) if kind == b"zTXt" else text
    )
    return png(None, png_chunk(kind, body), **options)


def png_with_xmp(packet: bytes | None = None, *, image: Image.Image | None = None) -> bytes:
    """(d) A PNG whose position is in its iTXt XML:com.adobe.xmp chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", (packet or xmp_packet(GPS_PROPERTIES)).decode())
    buffer = io.BytesIO()
    (image or pixels()).save(buffer, format="PNG", pnginfo=info, compress_level=1)
    return buffer.getvalue()


def webp(image: Image.Image | None = None, **options: object) -> bytes:
    buffer = io.BytesIO()
    (image or pixels()).save(buffer, format="WEBP", **({"lossless": True} | options))
    return buffer.getvalue()


def webp_with_xmp() -> bytes:
    """(d) A WebP whose position is in its ``XMP `` chunk, under another prefix than exif."""
    return webp(xmp=xmp_packet(RENAMED_GPS))


def gif_with_xmp(packet: bytes | None = None) -> bytes:
    """A GIF whose XMP application extension (as exiftool writes it: the packet raw, then a
    landing zone for readers of sub-blocks) holds a position."""
    buffer = io.BytesIO()
    pixels().save(buffer, format="GIF")
    data = buffer.getvalue()
    flags = data[10]
    cut = 13 + (3 << ((flags & 0x07) + 1) if flags & 0x80 else 0)  # after the colour table
    zone = bytes([1, *range(255, -1, -1), 0])
    extension = b"\x21\xff\x0bXMP DataXMP" + (packet or xmp_packet(GPS_PROPERTIES)) + zone
    return data[:cut] + extension + data[cut:]


# (g) Files of several MiB, which upload sessions send in parts (their threshold set low).


def large_jpeg() -> bytes:
    """EXIF and XMP that hold a position, then the image data, then a Motion Photo's video."""
    image = noise((1800, 1500))
    xmp = xmp_packet(GPS_PROPERTIES)
    data = jpeg(image, quality=100, subsampling=0, exif=exif_block(), xmp=xmp)
    return data + motion_photo_trailer()


def large_png() -> bytes:
    """XMP (iTXt) before the image data, and ImageMagick's EXIF profile (zTXt) after it."""
    text = zlib.compress(raw_profile("exif", exif_block()))
    profile = png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + text)
    data = png_with_xmp(image=noise((1400, 1300)))
    return data[:-12] + profile + data[-12:]
