"""Every bad input gets one JSON error shape, never a 500, and never leaves a stored file.

The tests share one moto environment (module scope: the module's tests stay contiguous in any
order, and none of them starts another mock). Each test leaves the bucket and table empty.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from service.adapters.dynamodb import keys
from service.domain.model import ORIGINALS_PREFIX, is_image_id
from service.domain.rules import FORM_MEMORY_BYTES, FORM_OVERHEAD_BYTES
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import animated, encode, jpeg, png, png_declaring

UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
MAX_FILE_SIZE = 512 * 1024


@pytest.fixture(scope="module")
def aws_settings() -> Iterator[Settings]:
    """The conftest settings, on a moto mock shared by this module."""
    settings = small_settings(
        s3_bucket_name="bad-input-bucket",
        dynamodb_table_name="bad-input",
        max_file_size=MAX_FILE_SIZE,
    )
    with moto_environment(settings):
        yield settings


@pytest.fixture(scope="module")
def app(aws_settings: Settings) -> Flask:
    return create_app(aws_settings)


@pytest.fixture
def client(app: Flask, aws_settings: Settings) -> Iterator[FlaskClient]:
    test_client = app.test_client()
    yield test_client
    # Whatever a test stored on purpose is gone before the next one.
    for item in test_client.get("/images?limit=100").get_json()["items"]:
        assert test_client.delete(f"/images/{item['image_id']}").status_code == 204
    assert_nothing_stored(test_client, aws_settings)


def assert_error(response: TestResponse, status: int) -> dict[str, Any]:
    """The one error shape: ``{code, status, message[, errors]}``, as JSON, never a 500."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert set(body) in ({"code", "status", "message"}, {"code", "status", "message", "errors"})
    assert body["code"] == status
    assert body["status"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    if "errors" in body:
        assert isinstance(body["errors"], dict)
        assert body["errors"]
    # Whatever the request held, the answer is valid Unicode (no lone surrogate echoed back).
    json.dumps(body, ensure_ascii=False).encode("utf-8")
    return body


def assert_nothing_stored(client: FlaskClient, settings: Settings) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    objects = s3.list_objects_v2(Bucket=settings.s3_bucket_name, Prefix=ORIGINALS_PREFIX)
    assert objects["KeyCount"] == 0
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    items = dynamodb.scan(TableName=settings.dynamodb_table_name)["Items"]
    # No image (pending or not) and no listing entry; day markers and tag counters may stay.
    assert [
        i for i in items if i["pk"]["S"].startswith(keys.IMAGE) or is_image_id(i["sk"]["S"])
    ] == []
    assert client.get("/images").get_json()["items"] == []
    assert client.get("/images?user_id=user123").get_json()["items"] == []


def post(client: FlaskClient, data: bytes, **fields: Any) -> TestResponse:
    # The body is encoded here, in memory: the test client spools a body over 500 KB to a
    # temporary file it never closes (a ResourceWarning, an error under this configuration).
    form = upload_form(data, **fields)
    stream, filename, *content_type = form.pop("image")
    fields_and_file = MultiDict(form)
    fields_and_file.add(
        "image",
        FileStorage(stream, filename, "image", content_type=(content_type or [None])[0]),
    )
    boundary, body = encode_multipart(fields_and_file)
    return client.post(
        "/images", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def rejected_upload(
    client: FlaskClient, settings: Settings, status: int, data: bytes, **fields: Any
) -> dict[str, Any]:
    body = assert_error(post(client, data, **fields), status)
    assert_nothing_stored(client, settings)
    return body


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def noisy_jpeg(size: tuple[int, int] = (64, 64)) -> bytes:
    image = Image.frombytes(
        "RGB", size, bytes((i * 37) % 251 for i in range(size[0] * size[1] * 3))
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def pillow_decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Exception:
        return False
    return True


# --- the bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"hello, this is plain text\n" * 20, "notes.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "drawing.svg"),
        (b"%PDF-1.4\n" + b"\x00" * 100, "doc.png"),
        (half(jpeg((64, 64))), "truncated.jpg"),
        (half(png((64, 64))), "truncated.png"),
        (jpeg()[:20], "header-only.jpg"),
        (b"", "empty.jpg"),
    ],
    ids=["text", "svg", "pdf", "half-jpeg", "half-png", "jpeg-header", "empty"],
)
def test_given_bytes_that_are_not_a_readable_image_then_400(
    client: FlaskClient, aws_settings: Settings, data: bytes, filename: str
) -> None:
    body = rejected_upload(client, aws_settings, 400, data, filename=filename)

    assert "image" in body["message"].lower() or "empty" in body["message"].lower()


def test_given_a_truncated_animated_gif_then_400(
    client: FlaskClient, aws_settings: Settings
) -> None:
    rejected_upload(client, aws_settings, 400, half(animated("GIF", frames=3)), filename="a.gif")


def test_given_zero_bytes_then_400_says_empty(client: FlaskClient, aws_settings: Settings) -> None:
    body = rejected_upload(client, aws_settings, 400, b"")

    assert "empty" in body["message"]


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_given_corrupt_bytes_in_the_middle_then_400_or_accepted_only_if_pillow_decodes_it(
    client: FlaskClient, aws_settings: Settings, fmt: str
) -> None:
    original = noisy_jpeg() if fmt == "jpeg" else png((64, 64))
    middle = len(original) // 2
    data = original[:middle] + b"\xff\x00\xd9\x13" * 8 + original[middle + 32 :]

    response = post(client, data, filename=f"corrupt.{fmt}")

    if pillow_decodes(data):
        assert response.status_code == 201, response.get_json()
    else:
        assert_error(response, 400)
        assert_nothing_stored(client, aws_settings)


def test_given_png_bytes_declared_as_jpeg_then_415(
    client: FlaskClient, aws_settings: Settings
) -> None:
    body = rejected_upload(
        client, aws_settings, 415, png(), filename="photo.jpg", file_content_type="image/jpeg"
    )

    assert "image/jpeg" in body["message"]
    assert "image/png" in body["message"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [(encode("BMP"), "image/bmp"), (encode("TIFF"), "image/tiff")],
    ids=["bmp", "tiff"],
)
def test_given_a_readable_format_outside_the_allowed_types_then_415(
    client: FlaskClient, aws_settings: Settings, data: bytes, kind: str
) -> None:
    body = rejected_upload(client, aws_settings, 415, data, filename="picture")

    assert kind in body["message"]


def test_given_webp_when_settings_allow_only_jpeg_and_png_then_415(
    aws_settings: Settings,
) -> None:
    narrow = create_app(
        dataclasses.replace(aws_settings, allowed_content_types=("image/jpeg", "image/png"))
    ).test_client()

    body = rejected_upload(narrow, aws_settings, 415, encode("WEBP"), filename="p.webp")

    assert "image/webp" in body["message"]
    assert "image/jpeg, image/png" in body["message"]


def test_given_a_body_larger_than_the_request_limit_then_413_naming_the_limit(
    client: FlaskClient, aws_settings: Settings
) -> None:
    body_limit = MAX_FILE_SIZE + FORM_OVERHEAD_BYTES

    body = rejected_upload(client, aws_settings, 413, os.urandom(body_limit + 1024))

    assert str(body_limit) in body["message"]


# werkzeug refuses a form over any of its limits with the same bare 413: the answer names the
# form's limits (service/entrypoints/api/forms.py), not which one was hit.
FORMS_OVER_A_LIMIT = {
    "parts": {f"f{i}": "v" for i in range(1001)},  # werkzeug's (and Flask's) default: 1000
    "text-field": {"description": "d" * (FORM_MEMORY_BYTES + 1)},
    "part-headers": {"filename": "x" * (FORM_MEMORY_BYTES + 1) + ".jpg"},
}


@pytest.mark.parametrize("fields", FORMS_OVER_A_LIMIT.values(), ids=FORMS_OVER_A_LIMIT)
def test_given_a_form_over_one_of_its_limits_then_413_naming_the_forms_limits(
    client: FlaskClient, aws_settings: Settings, fields: dict[str, str]
) -> None:
    body = rejected_upload(client, aws_settings, 413, jpeg(), **fields)

    assert "at most 1000 parts" in body["message"]
    assert f"at most {FORM_MEMORY_BYTES} bytes" in body["message"]
    assert "text field" in body["message"]
    assert "headers" in body["message"]


def test_given_a_form_at_its_limits_then_it_is_read_and_validated(client: FlaskClient) -> None:
    # 1000 parts (image, user_id, description and 997 custom fields), a text field of exactly
    # the form-memory limit: werkzeug reads it all, and the schema refuses it (too many fields).
    parts = {f"f{i}": "v" for i in range(997)}

    response = post(client, jpeg(), description="d" * FORM_MEMORY_BYTES, **parts)

    assert_error(response, 422)


def test_given_a_body_without_a_length_over_the_limit_then_413_naming_the_body_limit(
    client: FlaskClient, aws_settings: Settings
) -> None:
    large = io.BytesIO(os.urandom(MAX_FILE_SIZE + FORM_OVERHEAD_BYTES + 1024))
    form = MultiDict({"user_id": "user123", "image": FileStorage(large, "a.jpg", "image")})
    boundary, data = encode_multipart(form)
    # A chunked body, as a server that delimits it (gunicorn) hands it over.
    response = client.post(
        "/images",
        input_stream=io.BytesIO(data),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    body = assert_error(response, 413)
    assert str(MAX_FILE_SIZE + FORM_OVERHEAD_BYTES) in body["message"]
    assert_nothing_stored(client, aws_settings)


def multipart_with_raw_headers(*parts: tuple[bytes, bytes]) -> tuple[str, bytes]:
    """A multipart body from (Content-Disposition parameters, content) pairs, bytes as given."""
    boundary = "b0undary"
    body = b""
    for disposition, content in parts:
        body += b"--b0undary\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\n"
        body += content + b"\r\n"
    return f"multipart/form-data; boundary={boundary}", body + b"--b0undary--\r\n"


@pytest.mark.parametrize(
    "image_disposition",
    [b'name="image"; filename="caf\xe9.jpg"', b'name="im\xffage"; filename="x.jpg"'],
    ids=["filename", "name"],
)
def test_given_a_part_name_or_filename_that_is_not_utf8_then_400_saying_so(
    client: FlaskClient, aws_settings: Settings, image_disposition: bytes
) -> None:
    content_type, data = multipart_with_raw_headers(
        (b'name="user_id"', b"user123"), (image_disposition, jpeg())
    )

    response = client.post("/images", data=data, content_type=content_type)

    body = assert_error(response, 400)
    assert "UTF-8" in body["message"]
    assert_nothing_stored(client, aws_settings)


def test_given_a_file_just_above_max_file_size_within_the_body_limit_then_413(
    client: FlaskClient, aws_settings: Settings
) -> None:
    body = rejected_upload(client, aws_settings, 413, b"\x00" * (MAX_FILE_SIZE + 1))

    assert str(MAX_FILE_SIZE) in body["message"]
    assert str(MAX_FILE_SIZE + 1) in body["message"]


def test_given_a_decompression_bomb_then_413_without_decoding_it(
    client: FlaskClient, aws_settings: Settings
) -> None:
    started = time.perf_counter()

    body = rejected_upload(client, aws_settings, 413, png_declaring(20000, 20000))

    assert time.perf_counter() - started < 2
    assert "pixels" in body["message"]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_given_an_animation_over_the_frame_cap_then_413(
    client: FlaskClient, aws_settings: Settings, fmt: str
) -> None:
    body = rejected_upload(client, aws_settings, 413, animated(fmt, frames=11), filename="a")

    assert "11 frames" in body["message"]
    assert "10" in body["message"]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_given_an_animation_within_the_frame_cap_then_201(client: FlaskClient, fmt: str) -> None:
    response = post(client, animated(fmt, frames=10), filename="a")

    assert response.status_code == 201
    assert response.get_json()["content_type"] == f"image/{fmt.lower()}"


# --- the form fields --------------------------------------------------------------------------


def test_given_no_image_field_then_422(client: FlaskClient, aws_settings: Settings) -> None:
    response = client.post(
        "/images", data={"user_id": "user123"}, content_type="multipart/form-data"
    )

    body = assert_error(response, 422)
    assert "image" in json.dumps(body["errors"])
    assert_nothing_stored(client, aws_settings)


def test_given_a_json_body_instead_of_a_form_then_422(
    client: FlaskClient, aws_settings: Settings
) -> None:
    response = client.post("/images", json={"user_id": "user123", "image": "aGVsbG8="})

    assert_error(response, 422)
    assert_nothing_stored(client, aws_settings)


def test_given_no_user_id_then_422(client: FlaskClient, aws_settings: Settings) -> None:
    form = upload_form(jpeg())
    del form["user_id"]

    response = client.post("/images", data=form, content_type="multipart/form-data")

    body = assert_error(response, 422)
    assert "user_id" in json.dumps(body["errors"])
    assert_nothing_stored(client, aws_settings)


@pytest.mark.parametrize("user_id", ["user#1", "x" * 129, "", "   ", "a/b", "a b", "ü"])
def test_given_an_invalid_user_id_then_422(
    client: FlaskClient, aws_settings: Settings, user_id: str
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), user_id=user_id)

    assert "user_id" in json.dumps(body)


# A user id is taken as sent, in a form field as in a query: surrounding whitespace is refused
# in both, never trimmed in one and kept in the other.
PADDED_USER_IDS = ["alice\n", " alice", "alice ", "\talice"]


@pytest.mark.parametrize("user_id", PADDED_USER_IDS)
def test_given_a_user_id_with_surrounding_whitespace_when_uploading_then_422(
    client: FlaskClient, aws_settings: Settings, user_id: str
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), user_id=user_id)

    assert "user_id" in json.dumps(body["errors"])


@pytest.mark.parametrize("user_id", PADDED_USER_IDS)
def test_given_a_user_id_with_surrounding_whitespace_when_listing_then_422(
    client: FlaskClient, user_id: str
) -> None:
    body = assert_error(client.get("/images", query_string={"user_id": user_id}), 422)

    assert "user_id" in json.dumps(body["errors"])


@pytest.mark.parametrize(
    "tags",
    [
        '{"a":1}',
        "[1,2]",
        "[not json",
        '["ok", null]',
        json.dumps([f"t{i}" for i in range(21)]),
        json.dumps(["x" * 65]),
        '["a#b"]',
        '["a,b"]',
        '["-leading"]',
        '["   "]',
    ],
    ids=[
        "object",
        "numbers",
        "bad-json",
        "null",
        "21-tags",
        "65-chars",
        "hash",
        "comma",
        "leading-dash",
        "blank",
    ],
)
def test_given_bad_tags_then_422(client: FlaskClient, aws_settings: Settings, tags: str) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), tags=tags)

    assert "tags" in json.dumps(body["errors"])


def test_given_a_description_over_2000_characters_then_422(
    client: FlaskClient, aws_settings: Settings
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), description="d" * 2001)

    assert "description" in json.dumps(body["errors"])


@pytest.mark.parametrize(
    "metadata",
    [
        "[1, 2]",
        '"text"',
        "{not json",
        json.dumps({"note": "v" * 1025}),
        json.dumps({f"k{i}": i for i in range(21)}),
        json.dumps({"nested": {"a": 1}}),
        json.dumps({"list": [1, 2]}),
        json.dumps({"bad key!": 1}),
        '{"n": NaN}',
    ],
    ids=[
        "list",
        "string",
        "bad-json",
        "1025-chars",
        "21-keys",
        "nested",
        "list-value",
        "bad-key",
        "nan",
    ],
)
def test_given_bad_custom_metadata_then_422(
    client: FlaskClient, aws_settings: Settings, metadata: str
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), metadata=metadata)

    assert "metadata" in json.dumps(body["errors"])


DEEP = "[" * 20_000 + "]" * 20_000  # past any recursion limit of a JSON parser


@pytest.mark.parametrize("name", ["tags", "metadata"])
def test_given_deeply_nested_json_in_a_form_field_then_422_naming_it(
    client: FlaskClient, aws_settings: Settings, name: str
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), **{name: DEEP})

    assert name in json.dumps(body["errors"])


def test_given_too_many_custom_fields_as_form_fields_then_422(
    client: FlaskClient, aws_settings: Settings
) -> None:
    extra = {f"field{i}": "v" for i in range(21)}

    rejected_upload(client, aws_settings, 422, jpeg(), **extra)


def test_given_a_custom_form_field_with_a_bad_name_then_422(
    client: FlaskClient, aws_settings: Settings
) -> None:
    rejected_upload(client, aws_settings, 422, jpeg(), **{"bad name": "v"})


# --- listing queries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "?colour=red",
        "?user=alice",
        "?date_from=yesterday",
        "?date_from=2026-13-01",
        "?date_to=2026-02-30",
        "?date_to=2026-11-05T25:00:00Z",
        "?date_from=2026-11-06&date_to=2026-11-05",
        "?date_from=2026-11-05T12:00:00Z&date_to=2026-11-05T11:59:59Z",
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?limit=-1",
        "?content_type=image/bmp",
        "?content_type=text/plain",
        "?user_id=a%23b",
        "?tags=a%23b",
        "?tags=[1]",
        "?cursor=" + "x" * 2049,
    ],
)
def test_given_a_bad_listing_query_then_422(client: FlaskClient, query: str) -> None:
    assert_error(client.get(f"/images{query}"), 422)


@pytest.mark.parametrize("limit", ["1_0", "+5", " 5", "5 ", "\uff15", "\u0665", "0x10", "5.0"])
def test_given_a_limit_that_is_not_ascii_digits_then_422(client: FlaskClient, limit: str) -> None:
    body = assert_error(client.get("/images", query_string={"limit": limit}), 422)

    assert "limit" in json.dumps(body["errors"])


@pytest.mark.parametrize("size", ["+64", "6_4", "\uff16\uff14"])
def test_given_a_thumbnail_size_that_is_not_ascii_digits_then_422(
    client: FlaskClient, size: str
) -> None:
    path = f"/images/{UNKNOWN_ID}/thumbnail"

    body = assert_error(client.get(path, query_string={"size": size}), 422)

    assert "size" in json.dumps(body["errors"])


@pytest.mark.parametrize(
    "query",
    [
        "/images?limit=1&limit=2",
        "/images?user_id=alice&user_id=bob",
        "/images?content_type=image/png&content_type=image/jpeg",
        "/images?date_from=2026-01-01&date_from=2026-02-01",
        "/images?cursor=a&cursor=b",
        f"/images/{UNKNOWN_ID}/download?redirect=true&redirect=false",
        f"/images/{UNKNOWN_ID}/thumbnail?size=64&size=128",
    ],
)
def test_given_a_repeated_scalar_parameter_then_400_naming_it(
    client: FlaskClient, query: str
) -> None:
    body = assert_error(client.get(query), 400)

    name = query.split("?")[1].split("=")[0]
    assert name in body["message"]
    assert name in json.dumps(body["errors"])


def test_repeated_tags_are_a_list_not_an_error(client: FlaskClient) -> None:
    assert client.get("/images?tags=a&tags=b").status_code == 200


def test_given_date_from_after_date_to_the_error_names_the_field(client: FlaskClient) -> None:
    body = assert_error(client.get("/images?date_from=2026-11-06&date_to=2026-11-05"), 422)

    assert "date_from" in body["errors"]


def test_given_deeply_nested_json_in_the_tags_filter_then_422_naming_it(
    client: FlaskClient,
) -> None:
    body = assert_error(client.get("/images", query_string={"tags": DEEP}), 422)

    assert "tags" in json.dumps(body["errors"])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("date_from", "0001-01-01T00:00:00+01:00"),  # before year 1 once in UTC
        ("date_to", "9999-12-31T23:59:59-01:00"),  # after year 9999 once in UTC
    ],
)
def test_given_an_instant_outside_the_supported_years_then_422_naming_it(
    client: FlaskClient, name: str, value: str
) -> None:
    body = assert_error(client.get("/images", query_string={name: value}), 422)

    assert name in json.dumps(body["errors"])


def flip(cursor: str, index: int) -> str:
    if cursor[index] == ".":
        index += 1
    replacement = "A" if cursor[index] != "A" else "B"
    return cursor[:index] + replacement + cursor[index + 1 :]


@pytest.fixture
def alice_cursor(client: FlaskClient) -> str:
    """A cursor on the first page of alice's three images."""
    for _ in range(3):
        assert post(client, jpeg(), user_id="alice", tags='["secret"]').status_code == 201
    cursor: str = client.get("/images?user_id=alice&limit=1").get_json()["next_cursor"]
    assert cursor
    return cursor


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_given_a_tampered_cursor_then_400(
    client: FlaskClient, alice_cursor: str, where: str
) -> None:
    index = {"start": 0, "middle": len(alice_cursor) // 2, "end": len(alice_cursor) - 2}[where]

    body = assert_error(
        client.get(f"/images?user_id=alice&cursor={flip(alice_cursor, index)}"), 400
    )

    assert "cursor" in body["message"]


@pytest.mark.parametrize(
    "query",
    [
        "?user_id=mallory",
        "",
        "?tags=secret",
        "?user_id=alice&tags=secret",
        "?user_id=alice&content_type=image/jpeg",
        "?user_id=alice&date_from=2000-01-01",
    ],
)
def test_given_a_cursor_replayed_on_another_query_then_400_and_no_data(
    client: FlaskClient, alice_cursor: str, query: str
) -> None:
    separator = "&" if query else "?"

    response = client.get(f"/images{query}{separator}cursor={alice_cursor}")

    body = assert_error(response, 400)
    assert "items" not in body
    assert "alice" not in response.get_data(as_text=True)


def test_given_garbage_as_cursor_then_400(client: FlaskClient) -> None:
    assert_error(client.get("/images?cursor=not-a-cursor"), 400)


# --- image ids -------------------------------------------------------------------------------


def _call(client: FlaskClient, method: str, image_id: str) -> TestResponse:
    if method == "get":
        return client.get(f"/images/{image_id}")
    if method == "patch":
        return client.patch(f"/images/{image_id}", json={"description": "x"})
    if method == "delete":
        return client.delete(f"/images/{image_id}")
    return client.get(f"/images/{image_id}/download")


METHODS = ["get", "patch", "delete", "download"]


@pytest.mark.parametrize("method", METHODS)
def test_given_an_unknown_image_id_then_404(client: FlaskClient, method: str) -> None:
    body = assert_error(_call(client, method, UNKNOWN_ID), 404)

    assert UNKNOWN_ID in body["message"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "image_id",
    [
        "abc",
        UNKNOWN_ID.lower(),
        "81ARZ3NDEKTSV4RRFFQ69G5FAV",
        UNKNOWN_ID + "0",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
    ],
    ids=["short", "lowercase", "overflow", "27-chars", "letter-U"],
)
def test_given_a_malformed_image_id_then_400(
    client: FlaskClient, method: str, image_id: str
) -> None:
    assert_error(_call(client, method, image_id), 400)


# --- PATCH bodies ----------------------------------------------------------------------------


@pytest.fixture
def image_id(client: FlaskClient) -> str:
    response = post(client, jpeg(), description="before", tags='["kept"]')
    assert response.status_code == 201
    return str(response.get_json()["image_id"])


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"colour": "red"},
        {"description": "ok", "user_id": "mallory"},
        {"sha256": "0" * 64},
        {"description": "d" * 2001},
        {"description": 5},
        {"tags": "a,b"},
        {"tags": [1]},
        {"tags": ["a#b"]},
        {"tags": [f"t{i}" for i in range(21)]},
        {"metadata": [1]},
        {"metadata": {"nested": {"a": 1}}},
        {"metadata": {"k": "v" * 1025}},
    ],
)
def test_given_a_bad_patch_then_422_and_nothing_changes(
    client: FlaskClient, image_id: str, changes: dict[str, Any]
) -> None:
    before = client.get(f"/images/{image_id}").get_json()

    assert_error(client.patch(f"/images/{image_id}", json=changes), 422)

    assert client.get(f"/images/{image_id}").get_json() == before


LONE_SURROGATE = "\\udc80"  # as JSON spells it: half of a UTF-16 pair, no character at all


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ('{"description": "a' + LONE_SURROGATE + '"}', "description"),
        ('{"tags": ["a' + LONE_SURROGATE + '"]}', "tags"),
        ('{"metadata": {"k' + LONE_SURROGATE + '": 1}}', "metadata"),
        ('{"metadata": {"k": "v' + LONE_SURROGATE + '"}}', "metadata"),
    ],
    ids=["description", "tag", "metadata-key", "metadata-value"],
)
def test_given_a_lone_surrogate_in_a_patch_then_422_naming_the_field(
    client: FlaskClient, image_id: str, data: str, field: str
) -> None:
    before = client.get(f"/images/{image_id}").get_json()

    response = client.patch(f"/images/{image_id}", data=data, content_type="application/json")

    body = assert_error(response, 422)
    assert field in json.dumps(body["errors"])
    assert client.get(f"/images/{image_id}").get_json() == before


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"tags": '["a' + LONE_SURROGATE + '"]'}, "tags"),
        ({"metadata": '{"k": "v' + LONE_SURROGATE + '"}'}, "metadata"),
        ({"metadata": '{"k' + LONE_SURROGATE + '": "v"}'}, "metadata"),
    ],
    ids=["tag", "metadata-value", "metadata-key"],
)
def test_given_a_lone_surrogate_in_the_json_of_an_upload_then_422_naming_the_field(
    client: FlaskClient, aws_settings: Settings, fields: dict[str, str], name: str
) -> None:
    body = rejected_upload(client, aws_settings, 422, jpeg(), **fields)

    assert name in json.dumps(body["errors"])


def test_given_a_patch_body_over_64_kib_then_413_naming_the_limit_before_reading_it(
    client: FlaskClient, image_id: str
) -> None:
    before = client.get(f"/images/{image_id}").get_json()
    two_million_tags = '{"tags": [' + '"a",' * 2_000_000 + '"a"]}'

    body = assert_error(
        client.patch(f"/images/{image_id}", data=two_million_tags, content_type="application/json"),
        413,
    )

    assert str(64 * 1024) in body["message"]
    assert client.get(f"/images/{image_id}").get_json() == before


def test_given_a_patch_with_more_than_twenty_tags_then_422_even_if_they_repeat(
    client: FlaskClient, image_id: str
) -> None:
    body = assert_error(client.patch(f"/images/{image_id}", json={"tags": ["a"] * 21}), 422)

    assert "tags" in json.dumps(body["errors"])


@pytest.mark.parametrize(
    "data",
    [
        '{"metadata": {"n": ' + "9" * 5000 + "}}",  # more digits than Python converts
        '{"metadata": ' + DEEP + "}",
        '{"tags": ' + DEEP + "}",
    ],
    ids=["5000-digit-number", "deep-metadata", "deep-tags"],
)
def test_given_a_patch_body_python_cannot_hold_then_422_and_nothing_changes(
    client: FlaskClient, image_id: str, data: str
) -> None:
    before = client.get(f"/images/{image_id}").get_json()

    assert_error(
        client.patch(f"/images/{image_id}", data=data, content_type="application/json"), 422
    )

    assert client.get(f"/images/{image_id}").get_json() == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("not json", "application/json"),
        ('{"description": ', "application/json"),
        ("description=x", "application/x-www-form-urlencoded"),
        ("not json", "text/plain"),
    ],
)
def test_given_a_patch_body_that_is_not_json_then_a_4xx_json_error(
    client: FlaskClient, image_id: str, data: str, content_type: str
) -> None:
    before = client.get(f"/images/{image_id}").get_json()

    response = client.patch(f"/images/{image_id}", data=data, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)
    assert client.get(f"/images/{image_id}").get_json() == before


def test_given_a_bad_download_parameter_then_422(client: FlaskClient, image_id: str) -> None:
    assert_error(client.get(f"/images/{image_id}/download?redirect=maybe"), 422)
    assert_error(client.get(f"/images/{image_id}/download?format=png"), 422)


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/nowhere", 404), ("put", "/images", 405), ("post", f"/images/{UNKNOWN_ID}", 405)],
)
def test_unknown_routes_and_methods_use_the_same_error_shape(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    assert_error(getattr(client, method)(path), status)


def test_given_image_as_a_text_field_then_422_and_nothing_stored(client: Any) -> None:
    """An ``image`` form field holding text instead of a file part is not an upload."""
    response = client.post(
        "/images",
        data={"image": "hello", "user_id": "user123"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.json["errors"]["files"]["image"] == [
        "must be a file (multipart/form-data file part)"
    ]


def test_given_an_unsupported_method_then_405_names_the_allowed_ones(client: Any) -> None:
    response = client.put("/images")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json["code"] == 405


def test_a_form_part_without_a_name_is_422_not_500(client: FlaskClient) -> None:
    part = b'--XX\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
    body = part + jpeg() + b"\r\n--XX\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XX--\r\n"
    response = client.post("/images", data=body, content_type="multipart/form-data; boundary=XX")
    assert response.status_code == 422, response.get_json()
