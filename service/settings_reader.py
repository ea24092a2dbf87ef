"""Typed values from an environment mapping, for ``service.settings`` (the one module that hands
it ``os.environ``): a malformed value is a SettingsError that names the variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from service.domain.model import ACCEPTED_CONTENT_TYPES, RENDITION_FORMATS

MIN_RENDITION_SIZE = 16
MAX_RENDITION_SIZE = 4096
MAX_RENDITION_SIZES = 8


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class EnvironmentReader:
    """Reads typed settings from an environment, naming the variable when one is malformed."""

    env: Mapping[str, str]

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def secret(self, name: str) -> str | None:
        value = self.raw(name)
        if value is not None and len(value) < 16:
            raise SettingsError(f"{name} must be at least 16 characters long")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
            raise SettingsError(f"{name} must be {bound}, got {number}")
        return number

    def choice(
        self, name: str, default: str, choices: tuple[str, ...], *, upper: bool = True
    ) -> str:
        value = self.raw(name) or default
        value = value.upper() if upper else value.lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    def names(self, name: str) -> tuple[str, ...]:
        """A comma-separated list of names, blanks dropped."""
        value = self.raw(name) or ""
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise SettingsError(f"{name} must be true or false, got {value!r}")
        return value.lower() == "true"

    def sizes(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        """Comma-separated longest sides in pixels, sorted, each once."""
        value = self.raw(name)
        if value is None:
            return default
        try:
            sizes = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
        except ValueError:
            raise SettingsError(f"{name} must be comma-separated integers, got {value!r}") from None
        if (
            not sizes
            or len(sizes) > MAX_RENDITION_SIZES
            or sizes[0] < MIN_RENDITION_SIZE
            or sizes[-1] > MAX_RENDITION_SIZE
        ):
            raise SettingsError(
                f"{name} must list 1 to {MAX_RENDITION_SIZES} sizes between "
                f"{MIN_RENDITION_SIZE} and {MAX_RENDITION_SIZE}, got {value!r}"
            )
        return sizes

    def formats(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """Rendition formats among jpeg, webp, avif; jpeg (the fallback) is always included."""
        value = self.raw(name)
        if value is None:
            return default
        formats = tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))
        unknown = [f for f in formats if f not in RENDITION_FORMATS]
        if unknown:
            raise SettingsError(
                f"{name} must list formats among {', '.join(RENDITION_FORMATS)}, got {value!r}"
            )
        return tuple(dict.fromkeys(("jpeg", *formats)))

    def content_types(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ACCEPTED_CONTENT_TYPES
        types = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part))
        unknown = [t for t in types if t not in ACCEPTED_CONTENT_TYPES]
        if not types or unknown:
            raise SettingsError(
                f"{name} must list types among {', '.join(ACCEPTED_CONTENT_TYPES)}, got {value!r}"
            )
        return types
