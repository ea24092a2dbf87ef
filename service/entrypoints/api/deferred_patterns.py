"""Import marshmallow without compiling its e-mail domain pattern at import time.

``marshmallow.validate.Email`` compiles, in its class body, a case-insensitive pattern whose
character classes span U+00A1..U+FFFF five times. Case-folding that range costs about 25 ms in
the image, a fifth of what importing the Lambda handler adds to ``import flask, boto3``, and
this service validates no e-mail address. So while marshmallow is first imported, patterns
spanning that range are compiled on first use instead, as Django's validators and
mongoengine's EmailField do for theirs. Every other pattern is compiled as usual, and
``re.compile`` is restored before anything else runs.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

# The part of marshmallow's e-mail domain pattern that makes it slow to compile.
SLOW_RANGE = "\u00a1-\uffff"
_compile = re.compile


class DeferredPattern:
    """Compiles its pattern on first use and answers as the compiled ``re.Pattern`` from then
    on (``match``, ``fullmatch``, ``search``, ``pattern``, ``flags``...)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # class machinery probing (abc's __isabstractmethod__...)
            raise AttributeError(name)
        return getattr(self._pattern(), name)

    def __repr__(self) -> str:
        return f"DeferredPattern({self._source[0]!r}, {self._source[1]!r})"

    def _pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = _compile(*self._source)
        return self._compiled


def import_marshmallow() -> None:
    """Import marshmallow, deferring its slow patterns; a no-op once it is imported."""
    if "marshmallow.validate" in sys.modules:
        return

    def compile_slow_ones_later(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and SLOW_RANGE in pattern:
            return DeferredPattern(pattern, flags)
        return _compile(pattern, flags)

    re.compile = compile_slow_ones_later
    try:
        import marshmallow.validate  # noqa: F401
    finally:
        re.compile = _compile
