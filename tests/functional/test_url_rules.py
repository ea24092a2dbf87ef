"""URL rules that compile their builders on first use build the URLs werkzeug's own rules do."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import Map, Rule

from service.entrypoints.api.url_rules import LazyBuilderRule

IMAGE_ID = "01KMZ3NDEKTSV4RRFFQ69G5FAV"
# A value for each variable a rule of the app may take: the image ids pass their converter.
SAMPLES = {
    "image_id": IMAGE_ID,
    "upload_id": "up-1",
    "filename": "js/blurhash.js",
    "size": 256,
}


def values_for(rule: Rule, extra: dict[str, Any]) -> dict[str, Any]:
    return {name: SAMPLES[name] for name in rule.arguments} | extra


def plain_copy(app: Flask) -> Map:
    """The app's rules as werkzeug's own Rule class, with the app's converters."""
    rules = [Rule(rule.rule, **rule.get_empty_kwargs()) for rule in app.url_map.iter_rules()]
    return Map(rules, converters=app.url_map.converters)


def test_every_rule_of_the_app_but_flasks_own_static_one_is_lazy(app: Flask) -> None:
    rules = list(app.url_map.iter_rules())
    lazy = [rule.endpoint for rule in rules if type(rule) is LazyBuilderRule]
    eager = [rule.endpoint for rule in rules if type(rule) is not LazyBuilderRule]

    assert eager == ["static"]  # added by Flask() itself, before create_app sets the class
    assert len(lazy) > 20


@pytest.mark.parametrize("extra", [{}, {"next": "/photos?tag=a b"}], ids=["known", "unknown"])
@pytest.mark.parametrize("external", [False, True], ids=["path", "external"])
def test_every_rule_builds_the_url_werkzeugs_own_rule_builds(
    app: Flask, extra: dict[str, Any], external: bool
) -> None:
    lazy = app.url_map.bind("images.example.com", url_scheme="https")
    plain = plain_copy(app).bind("images.example.com", url_scheme="https")
    rules = list(app.url_map.iter_rules())

    for rule in rules:
        values = values_for(rule, extra)
        for method in sorted(rule.methods or {"GET"}):
            built = lazy.build(rule.endpoint, values, method=method, force_external=external)
            expected = plain.build(rule.endpoint, values, method=method, force_external=external)
            assert built == expected, rule.rule


def test_url_for_in_a_request_uses_the_lazy_builders(app: Flask) -> None:
    with app.test_request_context("/"):
        assert url_for("web.sign_in_form", next="/x") == "/sign-in?next=/x"
        assert url_for("images.ImageById", image_id=IMAGE_ID) == f"/images/{IMAGE_ID}"
