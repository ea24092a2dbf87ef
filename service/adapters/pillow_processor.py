"""Identifies and renders images with Pillow, within a memory budget.

Every decode of the service goes through this adapter, and each one is

* refused from the header alone, before any pixel is read, when its format is not accepted or
  when it has more pixels, frames or decoded bytes than allowed (frames are counted only up to
  the cap + 1);
* decoded in one of a few process-wide slots (:class:`DecodeSlots`), so that concurrent requests
  cannot add their decodes up beyond ``MAX_CONCURRENT_DECODES`` of them.

HEIC and HEIF are read by pillow-heif's plugin (registered on import, without the embedded
thumbnails its ``draft`` would otherwise decode outside the budget), AVIF by Pillow's own.

This module imports Pillow: the wiring imports it when the first request reads image bytes
(``service.bootstrap``), not at start-up.
"""

from __future__ import annotations

import ctypes
import io
import threading
import warnings
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import BinaryIO

import pillow_heif
from msgspec.structs import replace
from PIL import Image, UnidentifiedImageError

from service.adapters import exif_data, location_scrub, perceptual_hash, pillow_renditions
from service.adapters.decode_measures import (
    avif_header,
    count_gif_frames,
    decoded_bytes,
    is_lossless,
)
from service.adapters.decode_slots import DecodeSlots
from service.domain.errors import (
    ImageServiceError,
    ImageTooLarge,
    InvalidImage,
    UnsupportedImage,
)
from service.domain.model import ImageInfo, Placeholder, Rendition
from service.domain.scrub import Scrubbed
from service.ports import Readable

# Formats Pillow may try when identifying an upload. Wider than what is accepted so that a
# BMP or TIFF is told apart from garbage (415 rather than 400); nothing else is parsed. AVIF
# before HEIF: both plugins accept the generic "mif1" brand, and only Pillow's decodes AV1.
IDENTIFIABLE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF", "BMP", "TIFF")
# Formats a stored image can have: the only ones a thumbnail is rendered from.
RENDERABLE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "HEIF")
LOSSLESS_KINDS = "PNG, GIF, lossless WebP"
# Allocations of this size and more get pages of their own from the OS, given back when freed.
# glibc otherwise raises that threshold each time a large block is freed, after which decode
# buffers come from per-thread arenas that keep them: the memory of a decode is never returned
# and each of a worker's threads ends up holding the peak of its largest decode.
MMAP_THRESHOLD = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>

pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

_limits_lock = threading.Lock()
_process_max_pixels: int | None = None
_limits_applied = False


def set_process_limits(max_pixels: int) -> None:
    """Pillow's own decompression-bomb cap, process-wide: called once, by the wiring, which
    also makes the C allocator give the memory of decodes back (see MMAP_THRESHOLD).

    Pillow warns between its cap and twice its cap and raises above; both become errors, once,
    rather than around each call (catch_warnings is not thread-safe). Applied by the first use
    of Pillow that follows.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
    return_freed_memory()


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD; False where the C library has no
    ``mallopt`` (not glibc: nothing to tune)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


class PillowImageProcessor:
    def __init__(
        self,
        *,
        max_pixels: int,
        max_frames: int,
        max_decoded_bytes: int | None = None,
        max_lossless_decoded_bytes: int | None = None,
        decode_slots: DecodeSlots | None = None,
    ) -> None:
        """Without budgets of their own, decodes are capped at the pixel cap at 4 bytes a
        pixel; without slots, concurrent decodes are not bounded (the wiring gives both)."""
        self._max_pixels = max_pixels
        self._max_frames = max_frames
        self._max_decoded_bytes = max_decoded_bytes or max_pixels * 4
        self._max_lossless_decoded_bytes = max_lossless_decoded_bytes or max_pixels * 4
        self._slots = decode_slots

    def inspect(self, body: BinaryIO, *, accepted: Collection[str]) -> ImageInfo:
        with self._opened(body, IDENTIFIABLE_FORMATS, "The image is truncated or corrupt") as image:
            # Only the header has been read so far: every refusal happens before decoding.
            content_type = _content_type(image)
            if content_type not in accepted:
                allowed = ", ".join(accepted)
                raise UnsupportedImage(f"{content_type} is not accepted; allowed: {allowed}")
            self._check_pixels(image.size)
            frames = self._check_frames(image, body)
            width, height = image.size
            if image.format == "JPEG":
                # DCT scaling decodes every byte (truncation still shows) at 1/8 the memory.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            self._check_decoded_bytes(image, body, (width, height))
            with self._slot():
                image.load()
            info = ImageInfo(content_type=content_type, width=width, height=height, frames=frames)
            # After the decode: reading a PNG's EXIF loads the image, and a decode error must
            # not be taken for a broken EXIF block.
            orientation, exif, location = exif_data.read(image)
            return replace(info, orientation=orientation, exif=exif, location=location)

    def inspect_header(self, header: BinaryIO) -> ImageInfo:
        """Format, dimensions and frames from the first bytes of a file, no pixel decoded.
        Frames are counted as far as the header reaches: a frame cap is enforced on what it
        shows (a GIF's later frames lie beyond it). An AVIF is read from its meta box, which
        Pillow's plugin does not read without the rest of the file."""
        try:
            with self._opened(header, IDENTIFIABLE_FORMATS, "The image header is unreadable") as im:
                content_type, size = _content_type(im), im.size
                try:
                    frames = int(getattr(im, "n_frames", 1))
                except Exception:  # the frames run past the header: counted on what is seen
                    frames = 1
        except InvalidImage:
            found = avif_header(header)
            if found is None:
                raise
            content_type, size, frames = "image/avif", found[:2], found[2]
        self._check_pixels(size)
        if frames > self._max_frames:
            raise ImageTooLarge(
                f"The image has {frames} frames; the limit is {self._max_frames} frames"
            )
        return ImageInfo(content_type=content_type, width=size[0], height=size[1], frames=frames)

    @contextmanager
    def _opened(
        self, body: BinaryIO, formats: tuple[str, ...], failure: str
    ) -> Iterator[Image.Image]:
        """The image with its header read, Pillow's errors translated into the service's."""
        body.seek(0)
        try:
            with Image.open(body, formats=formats) as image:
                yield image
        except ImageServiceError:
            raise
        except UnidentifiedImageError:
            raise InvalidImage("The file is not an image in a recognised format") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageTooLarge(f"The image has more than {self._max_pixels} pixels") from None
        except Exception as error:
            # Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError, but also
            # IndexError or struct.error on some truncated files: all mean a broken image.
            raise InvalidImage(failure, detail=_described(error)) from None
        finally:
            body.seek(0)

    def render(self, body: BinaryIO, longest_side: int, fmt: str) -> Rendition:
        """A rendition (see ``pillow_renditions.render``) of the image in ``body``, decoded
        within the budget and in a decode slot, like every other decode."""
        with self._opened(body, RENDERABLE_FORMATS, "The image cannot be rendered") as image:
            self._check_pixels(image.size)
            full_size = width, height = image.size
            # JPEG's DCT scaling: the smallest scale that keeps both sides at twice the
            # rendition's or more, chosen before the decoded bytes are checked.
            scale = 2 * longest_side / max(width, height)
            image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
            self._check_decoded_bytes(image, body, full_size)
            with self._slot():
                return pillow_renditions.render(image, longest_side, fmt)

    def placeholder(self, rendition: bytes) -> Placeholder:
        """BlurHash and dominant colour of a rendition (small, upright, made by ``render``)."""
        try:
            with Image.open(io.BytesIO(rendition)) as image:
                return pillow_renditions.placeholder(image)
        except Exception as error:
            raise InvalidImage("The image cannot be rendered", detail=_described(error)) from None

    def perceptual_hash(self, rendition: bytes) -> str:
        """The perceptual hash (``service.adapters.perceptual_hash``) of a rendition, as 16 hex
        digits: opened and decoded like every other image, a JPEG at a reduced scale."""
        body = io.BytesIO(rendition)
        with self._opened(body, RENDERABLE_FORMATS, "The image cannot be hashed") as image:
            self._check_pixels(image.size)
            full_size = image.size
            image.draft("L", perceptual_hash.DRAFT_SIZE)
            self._check_decoded_bytes(image, body, full_size)
            with self._slot():
                return perceptual_hash.perceptual_hash(image)

    def without_location(self, body: Readable) -> Scrubbed:
        """The upload without its location, the image data untouched (see
        ``service.adapters.location_scrub``)."""
        try:
            return location_scrub.without_location(body)
        except ImageServiceError:
            raise
        except Exception as error:
            message = "The image's metadata cannot be read"
            raise InvalidImage(message, detail=_described(error)) from None

    def formats(self) -> tuple[str, ...]:
        return pillow_renditions.supported_formats()

    def _slot(self) -> AbstractContextManager[None]:
        return self._slots.slot() if self._slots else nullcontext()

    def _check_pixels(self, size: tuple[int, int]) -> None:
        width, height = size
        if width * height > self._max_pixels:
            raise ImageTooLarge(
                f"The image is {width}x{height} pixels; the limit is {self._max_pixels} pixels"
            )

    def _check_frames(self, image: Image.Image, body: BinaryIO) -> int:
        if image.format == "GIF":
            # Pillow's n_frames reads through every frame of a GIF; this stops after the cap.
            frames = count_gif_frames(body, self._max_frames + 1)
        else:
            frames = int(getattr(image, "n_frames", 1))  # from the header (WebP, APNG)
        if frames > self._max_frames:
            raise ImageTooLarge(
                f"The image has at least {frames} frames; the limit is {self._max_frames} frames"
            )
        return max(frames, 1)

    def _check_decoded_bytes(
        self, image: Image.Image, body: BinaryIO, full_size: tuple[int, int]
    ) -> None:
        needed = decoded_bytes(image, full_size, body)
        width, height = full_size
        if is_lossless(image, body):
            limit, kind = (
                self._max_lossless_decoded_bytes,
                f" for lossless images ({LOSSLESS_KINDS})",
            )
        else:
            limit, kind = self._max_decoded_bytes, ""
        if needed > limit:
            raise ImageTooLarge(
                f"Decoding the image takes {needed} bytes ({width}x{height} pixels); "
                f"the limit is {limit} bytes{kind}"
            )


def _content_type(image: Image.Image) -> str:
    fmt = image.format or ""
    if fmt == "HEIF" and isinstance(image, pillow_heif.HeifImageFile):
        # By the file's brands: image/heic (HEVC), image/heif, or a sequence's type.
        return image.get_format_mimetype() or "image/heif"
    return Image.MIME.get(fmt, f"image/{fmt.lower()}")


def _described(error: Exception) -> str:
    """Pillow's (or a decoder's) words, for the log."""
    return f"{type(error).__name__}: {error}"
