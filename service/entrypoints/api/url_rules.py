"""URL rules that write their URL builders when a URL is first built.

For every rule it adds, werkzeug writes and compiles two Python functions that build the
rule's URL (``url_for``): about 8 of the 10 ms ``create_app`` takes in the image. Matching a
request never uses them, and most rules here are never built (``url_for`` serves the
gallery's links and redirects), so each rule compiles its builders when first asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class LazyBuilderRule(Rule):
    """A werkzeug Rule whose ``_compile_builder`` (werkzeug 3.1) runs on the first build."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        compiled: Builder | None = None

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:  # two threads may both compile it: the same function
                compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, **values)

        return build
