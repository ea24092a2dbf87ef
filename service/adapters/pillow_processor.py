"""Identifies images from their bytes with Pillow and enforces the pixel and frame caps."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import ImageTooLarge, InvalidImage
from service.model import ImageInfo, Rendition

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

    def inspect_header(self, header: BinaryIO) -> ImageInfo:
        """Format, dimensions and frames from the first bytes of a file, no pixel decoded.
        Frames are counted as far as the header reaches: a frame cap is enforced on what it
        shows (a GIF's later frames lie beyond it)."""
        header.seek(0)
        try:
            with Image.open(header, formats=IDENTIFIABLE_FORMATS) as image:
                width, height = image.size
                if width * height > self._max_pixels:
                    raise ImageTooLarge(
                        f"The image is {width}x{height} pixels; the limit is "
                        f"{self._max_pixels} pixels"
                    )
                try:
                    frames = int(getattr(image, "n_frames", 1))
                except Exception:  # the frames run past the header: counted on what is seen
                    frames = 1
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
        except ImageTooLarge:
            raise
        except UnidentifiedImageError:
            raise InvalidImage("The file is not an image in a recognised format") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(f"The image has more than {self._max_pixels} pixels") from None
        except Exception as error:
            raise InvalidImage(f"The image header is unreadable ({error})") from None

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
