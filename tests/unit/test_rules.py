"""Input rules: normalisation and limits of what clients send."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from service.domain import rules
from service.domain.errors import InvalidInput


@pytest.mark.parametrize("value", ["user123", "a", "x" * 128, "first.last@example.com", "A_b-c"])
def test_valid_user_ids_pass_unchanged(value: str) -> None:
    assert rules.user_id(value) == value


@pytest.mark.parametrize("value", ["", "x" * 129, "user#1", "a b", "a/b", "ü", "a,b", "\na"])
def test_invalid_user_ids_are_rejected_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.user_id(value)

    assert caught.value.errors is not None
    assert "user_id" in caught.value.errors


def test_a_user_id_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        rules.user_id("alice\n")


def test_a_metadata_key_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        rules.metadata({"key\n": "v"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Nature", "nature"),
        ("  Golden   Hour  ", "golden hour"),
        ("\uff21\uff22\uff23\uff11", "abc1"),  # full-width ABC1: NFKC
        ("Straße", "strasse"),  # case folding, not lower()
        ("new-york_2026", "new-york_2026"),
        ("été", "été"),
        ("東京", "東京"),
        ("x" * 64, "x" * 64),
    ],
)
def test_tags_are_trimmed_collapsed_and_case_folded(value: str, expected: str) -> None:
    assert rules.tag(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "x" * 65,
        " " + "x" * 64,  # 64 characters once trimmed, but the limit is on the tag as sent
        "a#b",
        "a,b",
        "-a",
        "_a",
        "a!",
        "a.b",
        "a\tb\x00",
        "#",
        "a\n",
        "\u00a0a",  # only the space character is trimmed
        "\u0140",  # a letter, but NFKC makes it l and a middle dot
        "\u00df" * 33,  # 33 letters, but 66 once case-folded (ss)
    ],
)
def test_invalid_tags_are_rejected(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.tag(value)

    assert caught.value.errors is not None
    assert "tags" in caught.value.errors


def test_tags_are_deduplicated_after_normalisation_first_wins() -> None:
    assert rules.tags(["Sunset", "nature", "SUNSET", " nature "]) == ("sunset", "nature")


def test_twenty_tags_pass_and_twenty_one_fail() -> None:
    assert len(rules.tags([f"t{i}" for i in range(20)])) == 20
    with pytest.raises(InvalidInput, match="Too many tags"):
        rules.tags([f"t{i}" for i in range(21)])


def test_tags_are_counted_as_given_before_any_is_normalised() -> None:
    # Duplicates count: the limit bounds the work done on what the client sent.
    with pytest.raises(InvalidInput, match="Too many tags"):
        rules.tags(["a"] * 21)
    # Nothing is normalised first: these items would fail normalisation with a TypeError.
    with pytest.raises(InvalidInput, match="Too many tags"):
        rules.tags([object()] * 2_000_000)  # type: ignore[list-item]


def test_description_is_bounded_as_sent_then_trimmed() -> None:
    assert rules.description("  hello \n") == "hello"
    assert rules.description("d" * 2000) == "d" * 2000
    assert rules.description(" " * 2000) == ""
    for too_long in ("d" * 2001, "d" * 2000 + " "):
        with pytest.raises(InvalidInput) as caught:
            rules.description(too_long)
        assert caught.value.errors == {"description": ["at most 2000 characters"]}


def test_metadata_takes_every_field_at_its_limits() -> None:
    # No limit on the total beyond these (an item of DynamoDB holds 400 KB; this is ~250 KB
    # at worst, JSON-escaped): the OpenAPI document can state every one of them.
    values = {f"{i:02d}" + "k" * 62: "\U0001f600" * 1024 for i in range(20)}

    assert rules.metadata(values) == values


def test_metadata_keeps_scalars() -> None:
    values = {"s": "x", "i": 1, "f": 1.5, "b": True, "n": None, "key.with-dots_1": "v"}

    assert rules.metadata(values) == values


@pytest.mark.parametrize(
    "values",
    [
        {"bad key": 1},
        {"": 1},
        {"k" * 65: 1},
        {"nested": {"a": 1}},
        {"list": [1]},
        {"nan": float("nan")},
        {"inf": float("inf")},
        {"long": "v" * 1025},
        {f"k{i}": i for i in range(21)},
    ],
    ids=[
        "space",
        "empty-key",
        "long-key",
        "nested",
        "list",
        "nan",
        "inf",
        "long-value",
        "21-keys",
    ],
)
def test_invalid_metadata_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.metadata(values)

    assert caught.value.errors is not None
    assert "metadata" in caught.value.errors


def test_metadata_limits_are_inclusive() -> None:
    assert rules.metadata({"v": "x" * 1024})["v"] == "x" * 1024
    assert len(rules.metadata({f"k{i}": i for i in range(20)})) == 20


def test_metadata_errors_name_each_bad_key() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.metadata({"ok": 1, "bad key": 2, "nested": {}})

    assert caught.value.errors is not None
    assert set(caught.value.errors["metadata"]) == {"bad key", "nested"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("application/octet-stream", None),
        ("binary/octet-stream", None),
        ("image/png", "image/png"),
        ("IMAGE/JPEG; charset=binary", "image/jpeg"),
        ("image/jpg", "image/jpeg"),
        ("image/pjpeg", "image/jpeg"),
        (" image/webp ", "image/webp"),
        ("text/plain", "text/plain"),
    ],
)
def test_content_type_is_normalised(value: str | None, expected: str | None) -> None:
    assert rules.content_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\pic.png", "pic.png"),
        ("a\r\nb.jpg", "ab.jpg"),
        ("  .hidden.  ", "hidden"),
        ("...", "FALLBACK"),
        ("", "FALLBACK"),
        (None, "FALLBACK"),
        ("dir/", "FALLBACK"),
        ("e\u0301te.jpg", "\u00e9te.jpg"),  # NFC
    ],
)
def test_filename_is_a_safe_base_name(value: str | None, expected: str) -> None:
    assert rules.filename(value, fallback="FALLBACK") == expected


def test_filename_is_bounded() -> None:
    assert len(rules.filename("x" * 300 + ".jpg", fallback="f")) == 255


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("pässwd.jpg", "passwd.jpg"),
        ('a"b;c.jpg', "a_b_c.jpg"),
        ("日本", "image"),
        ("my photo (1).jpg", "my photo _1_.jpg"),
    ],
)
def test_ascii_filename_is_safe_inside_a_quoted_header_parameter(value: str, expected: str) -> None:
    result = rules.ascii_filename(value)

    assert result == expected
    assert result.isascii()
    assert '"' not in result
    assert "\\" not in result


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: rules.description("a\udc80"), "description"),
        (lambda: rules.tag("a\udc80"), "tags"),
        (lambda: rules.metadata({"k\udc80": 1}), "metadata"),
        (lambda: rules.metadata({"k": "v\ud800"}), "metadata"),
    ],
    ids=["description", "tag", "metadata-key", "metadata-value"],
)
def test_a_lone_surrogate_is_refused_naming_the_field(
    call: Callable[[], object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()

    assert caught.value.errors is not None
    assert field in caught.value.errors


def test_a_surrogate_pair_spelled_as_one_character_is_fine() -> None:
    assert rules.description("\U0001f600") == "\U0001f600"
