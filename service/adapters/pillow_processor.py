"""Identifies images from their bytes with Pillow and enforces the pixel and frame caps."""

from __future__ import annotations

import io
import warnings
from dataclasses import replace
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from service.adapters import exif_data, pillow_renditions
from service.errors import ImageTooLarge, InvalidImage
from service.model import ImageInfo, Placeholder, Rendition

# Formats Pillow may try when identifying an upload. Wider than what is accepted so that a
# BMP or TIFF is told apart from garbage (415 rather than 400); nothing else is parsed.
IDENTIFIABLE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")


def set_process_limits(max_pixels: int) -> None:
    """Pillow's own decompression-bomb cap, process-wide: called once, by the wiring.

    Pillow warns between its cap and twice its cap and raises above; both become errors, once,
    rather than around each call (catch_warnings is not thread-safe).
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class PillowImageProcessor:
    def __init__(self, *, max_pixels: int, max_frames: int) -> None:
        self._max_pixels = max_pixels
        self._max_frames = max_frames

    def inspect(self, body: BinaryIO) -> ImageInfo:
        body.seek(0)
        try:
            with Image.open(body, formats=IDENTIFIABLE_FORMATS) as image:
                # Only the header has been read so far: a bomb is rejected before decoding.
                info = self._check_header(image)
                if image.format == "JPEG":
                    # DCT scaling decodes every byte (truncation still shows) at 1/8 the memory.
                    image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
                # After the decode: reading a PNG's EXIF loads the image, and a decode error
                # must not be taken for a broken EXIF block.
                orientation, exif, location = exif_data.read(image)
                return replace(info, orientation=orientation, exif=exif, location=location)
        except (ImageTooLarge, InvalidImage):
            raise
        except UnidentifiedImageError:
            raise InvalidImage("The file is not an image in a recognised format") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(f"The image has more than {self._max_pixels} pixels") from None
        except Exception as error:
            # Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError, but also
            # IndexError or struct.error on some truncated files: all mean a broken image.
            raise InvalidImage(f"The image is truncated or corrupt ({error})") from None
        finally:
            body.seek(0)

    def thumbnail(self, body: BinaryIO, longest_side: int) -> Rendition:
        """Upright (EXIF orientation applied), re-encoded without metadata: JPEG, or PNG when
        the image has transparency. Only the first frame of an animation is used."""
        body.seek(0)
        try:
            with Image.open(body, formats=IDENTIFIABLE_FORMATS) as image:
                self._check_header(image)
                # Decoding at a reduced scale where the format allows (JPEG's DCT scaling).
                image.draft("RGB", (longest_side * 2, longest_side * 2))
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((longest_side, longest_side))
                transparent = upright.mode in ("RGBA", "LA", "PA") or (
                    upright.mode == "P" and "transparency" in upright.info
                )
                out = io.BytesIO()
                if transparent:
                    upright.convert("RGBA").save(out, format="PNG", optimize=True)
                else:
                    upright.convert("RGB").save(out, format="JPEG", quality=85)
                return Rendition(
                    content_type="image/png" if transparent else "image/jpeg",
                    data=out.getvalue(),
                    width=upright.width,
                    height=upright.height,
                )
        except (ImageTooLarge, InvalidImage):
            raise
        except Exception as error:
            raise InvalidImage(f"The image cannot be rendered ({error})") from None
        finally:
            body.seek(0)

    def render(self, body: BinaryIO, longest_side: int, fmt: str) -> Rendition:
        """A rendition (see ``pillow_renditions.render``) of the image in ``body``."""
        body.seek(0)
        try:
            with Image.open(body, formats=IDENTIFIABLE_FORMATS) as image:
                self._check_header(image)
                return pillow_renditions.render(image, longest_side, fmt)
        except (ImageTooLarge, InvalidImage):
            raise
        except Exception as error:
            raise InvalidImage(f"The image cannot be rendered ({error})") from None
        finally:
            body.seek(0)

    def placeholder(self, rendition: bytes) -> Placeholder:
        """BlurHash and dominant colour of a rendition (small, upright, made by ``render``)."""
        try:
            with Image.open(io.BytesIO(rendition)) as image:
                return pillow_renditions.placeholder(image)
        except Exception as error:
            raise InvalidImage(f"The image cannot be rendered ({error})") from None

    def without_gps(self, data: bytes) -> bytes | None:
        """The same bytes without GPS (lossless: only the EXIF block is rewritten), or None when
        there is no GPS to remove."""
        try:
            return exif_data.without_gps(data)
        except Exception as error:
            raise InvalidImage(f"The image's EXIF cannot be rewritten ({error})") from None

    def formats(self) -> tuple[str, ...]:
        return pillow_renditions.supported_formats()

    def _check_header(self, image: Image.Image) -> ImageInfo:
        width, height = image.size
        if width * height > self._max_pixels:
            raise ImageTooLarge(
                f"The image is {width}x{height} pixels; the limit is {self._max_pixels} pixels"
            )
        frames = int(getattr(image, "n_frames", 1))
        if frames > self._max_frames:
            raise ImageTooLarge(
                f"The image has {frames} frames; the limit is {self._max_frames} frames"
            )
        fmt = image.format or ""
        return ImageInfo(
            content_type=Image.MIME.get(fmt, f"image/{fmt.lower()}"),
            width=width,
            height=height,
            frames=frames,
        )
