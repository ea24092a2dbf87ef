"""Identifies images from their bytes with Pillow and enforces the pixel and frame caps.

Pillow is imported on first use, not with this module: a cold start that serves no upload or
thumbnail does not pay for it.
"""

from __future__ import annotations

import io
import threading
import warnings
from typing import TYPE_CHECKING, BinaryIO

from service.errors import ImageTooLarge, InvalidImage
from service.model import ImageInfo, Rendition

if TYPE_CHECKING:
    from PIL import Image

# Formats Pillow may try when identifying an upload. Wider than what is accepted so that a
# BMP or TIFF is told apart from garbage (415 rather than 400); nothing else is parsed.
IDENTIFIABLE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")

_limits_lock = threading.Lock()
_process_max_pixels: int | None = None
_limits_applied = False


def set_process_limits(max_pixels: int) -> None:
    """Pillow's own decompression-bomb cap, process-wide: called once, by the wiring.

    Pillow warns between its cap and twice its cap and raises above; both become errors, once,
    rather than around each call (catch_warnings is not thread-safe). Applied by the first use
    of Pillow that follows.
    """
    global _process_max_pixels, _limits_applied
    with _limits_lock:
        _process_max_pixels = max_pixels
        _limits_applied = False


def _pillow_ready() -> None:
    """Imports Pillow and applies the process limits if not done yet; cheap once done."""
    global _limits_applied
    if _limits_applied:
        return
    from PIL import Image

    with _limits_lock:
        if not _limits_applied:
            warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
            if _process_max_pixels is not None:
                Image.MAX_IMAGE_PIXELS = _process_max_pixels
            _limits_applied = True


class PillowImageProcessor:
    def __init__(self, *, max_pixels: int, max_frames: int) -> None:
        self._max_pixels = max_pixels
        self._max_frames = max_frames

    def inspect(self, body: BinaryIO) -> ImageInfo:
        from PIL import Image, UnidentifiedImageError

        _pillow_ready()
        body.seek(0)
        try:
            with Image.open(body, formats=IDENTIFIABLE_FORMATS) as image:
                # Only the header has been read so far: a bomb is rejected before decoding.
                info = self._check_header(image)
                if image.format == "JPEG":
                    # DCT scaling decodes every byte (truncation still shows) at 1/8 the memory.
                    image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
                return info
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
        from PIL import Image, ImageOps

        _pillow_ready()
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

    def _check_header(self, image: Image.Image) -> ImageInfo:
        from PIL import Image

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
