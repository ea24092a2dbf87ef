"""Renditions with Pillow: upright, sRGB, no metadata; and the placeholder (BlurHash, colour).

Kept apart from ``pillow_processor`` (which identifies uploads and enforces the decode caps):
the processor opens and checks the image, these functions only transform an opened image.
"""

from __future__ import annotations

import io

import blurhash
from PIL import Image, ImageCms, ImageOps, features

from service.domain.model import CONTENT_TYPE_BY_RENDITION_FORMAT, Placeholder, Rendition

PIL_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF"}
QUALITY = {"jpeg": 85, "webp": 80, "avif": 60}
# The hash is computed on at most 16x16 pixels (area averages): plenty for its 4x3 components,
# whose highest frequency is 3 half-cycles across. The pure-Python encoder's cost grows with the
# pixels; at 32x32 it was most of an upload's CPU time, and its result differs by a few levels.
BLURHASH_SIDE = 16
BLURHASH_COMPONENTS = (4, 3)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def supported_formats() -> tuple[str, ...]:
    """The rendition formats this Pillow build can encode (JPEG always)."""
    return tuple(fmt for fmt in PIL_FORMAT if fmt == "jpeg" or features.check(fmt))


def render(image: Image.Image, longest_side: int, fmt: str) -> Rendition:
    """``image`` (opened, not yet loaded) no larger than ``longest_side``, upright (EXIF
    orientation applied), converted to sRGB, encoded as ``fmt`` without any metadata. The first
    frame of an animation. Transparency is kept in WebP and AVIF, flattened on white in JPEG."""
    # JPEG's DCT scaling decodes at a reduced scale, at least twice the size asked for.
    image.draft("RGB", (longest_side * 2, longest_side * 2))
    # Scaled down in place first (the box is square, so a later quarter turn keeps within
    # it): only the small copy is turned upright and converted, which keeps a decode's peak
    # memory near its decoded size rather than a multiple of it.
    image.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    upright = _to_srgb(ImageOps.exif_transpose(image))
    transparent = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    if transparent and fmt != "jpeg":
        pixels = upright.convert("RGBA")
    elif transparent:
        rgba = upright.convert("RGBA")
        pixels = Image.new("RGB", rgba.size, "white")
        pixels.paste(rgba, mask=rgba.getchannel("A"))
    else:
        pixels = upright.convert("RGB")
    out = io.BytesIO()
    # A new image carries no info: no EXIF, ICC, XMP or comment is written (sRGB is the default
    # every decoder assumes without a profile).
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    clean.save(out, format=PIL_FORMAT[fmt], quality=QUALITY[fmt])
    return Rendition(
        content_type=CONTENT_TYPE_BY_RENDITION_FORMAT[fmt],
        data=out.getvalue(),
        width=clean.width,
        height=clean.height,
        format=fmt,
    )


def placeholder(image: Image.Image) -> Placeholder:
    """BlurHash and dominant colour of a small, upright RGB image (a rendition)."""
    rgb = image.convert("RGB")
    small = rgb.copy()
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE), Image.Resampling.BOX)
    data = small.tobytes()
    width = small.width
    rows = [
        [list(data[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(small.height)
    ]
    x_components, y_components = BLURHASH_COMPONENTS
    hash_text = str(blurhash.encode(rows, x_components, y_components))
    return Placeholder(blurhash=hash_text, dominant_color=dominant_color(rgb))


def dominant_color(image: Image.Image) -> str:
    """The most common of 8 colours of the image, as ``#rrggbb``."""
    small = image.convert("RGB").resize((64, 64), Image.Resampling.BOX)
    palette_image = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    counts: list[tuple[int, int]] = list(palette_image.getcolors() or [(1, 0)])  # type: ignore[arg-type]
    _, index = max(counts)
    palette = palette_image.getpalette() or [0, 0, 0]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def _to_srgb(image: Image.Image) -> Image.Image:
    """Pixels converted from the embedded ICC profile to sRGB; unchanged without one (or with
    one littleCMS cannot read)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image
