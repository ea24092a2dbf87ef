"""The seed's user flow through the Flask test client, on moto's in-process S3 + DynamoDB."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_openapi
from PIL import Image

from service.domain.model import object_key
from service.entrypoints.app import create_app
from service.settings import Settings
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import animated, encode, has_gps, jpeg, png, sideways_jpeg
from tests.support.jobs import run_jobs

SEED_TAGS = '["nature", "sunset"]'


def upload(client: FlaskClient, data: bytes | None = None, **fields: Any) -> dict[str, Any]:
    """Upload as the seed does and return the created image's metadata (asserting 201)."""
    response = client.post(
        "/images",
        data=upload_form(jpeg() if data is None else data, **fields),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def listing(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/images{query}")
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def listed_ids(client: FlaskClient, query: str = "") -> list[str]:
    return [item["image_id"] for item in listing(client, query)["items"]]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def object_bytes(settings: Settings, image_id: str) -> bytes | None:
    s3 = boto3.client("s3", region_name="us-east-1")
    try:
        body: bytes = s3.get_object(Bucket=settings.s3_bucket_name, Key=object_key(image_id))[
            "Body"
        ].read()
    except s3.exceptions.NoSuchKey:
        return None
    return body


# --- upload -------------------------------------------------------------------------------


def test_given_the_seed_form_when_uploading_then_201_with_full_metadata_and_location(
    client: FlaskClient, aws: Settings
) -> None:
    data = jpeg((40, 30))

    response = client.post(
        "/images",
        data=upload_form(
            data, user_id="user123", description="Sunset at the beach", tags=SEED_TAGS
        ),
        content_type="multipart/form-data",
    )

    assert response.status_code == 201
    body = response.get_json()
    # The order of the answer's fields is part of its shape.
    assert list(body) == [
        "image_id",
        "version",
        "user_id",
        "description",
        "tags",
        "metadata",
        "content_type",
        "size_bytes",
        "width",
        "height",
        "sha256",
        "original_filename",
        "status",
        "created_at",
        "updated_at",
        "pixel_width",
        "pixel_height",
        "exif",
        "blurhash",
        "dominant_color",
        "renditions",
    ]
    assert len(body["image_id"]) == 26
    assert body["user_id"] == "user123"
    assert body["description"] == "Sunset at the beach"
    assert body["tags"] == ["nature", "sunset"]
    assert body["metadata"] == {}
    assert body["content_type"] == "image/jpeg"
    assert body["size_bytes"] == len(data)
    assert (body["width"], body["height"]) == (40, 30)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["original_filename"] == "photo.jpg"
    assert body["status"] == "READY"
    created = parse_time(body["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert body["updated_at"] == body["created_at"]
    assert response.headers["Location"].endswith(f"/images/{body['image_id']}")
    # The stored bytes are the uploaded bytes.
    assert object_bytes(aws, body["image_id"]) == data


def uploaded_metadata(client: FlaskClient, image_id: str) -> dict[str, Any]:
    response = client.get(f"/images/{image_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def png_with_line_breaks(size_bytes: int) -> bytes:
    """A valid PNG padded with a private ancillary chunk full of CR LF pairs.

    Compressed image data contains CR and LF bytes wherever they fall; this makes them fall
    everywhere, so the multipart parser always holds back bytes at a chunk edge.
    """
    base = png((16, 16))
    payload = b"\r\n" * (size_bytes // 2)
    chunk = (
        struct.pack(">I", len(payload))
        + b"prVt"
        + payload
        + struct.pack(">I", zlib.crc32(b"prVt" + payload) & 0xFFFFFFFF)
    )
    iend = base.rindex(b"IEND") - 4
    return base[:iend] + chunk + base[iend:]


# --- listing ------------------------------------------------------------------------------
# The listing tests only read: they share one moto environment and gallery (class scope keeps
# them contiguous, whatever the test order, so no other test's mock resets it).


SHARED_SETTINGS = small_settings(
    s3_bucket_name="shared-images-bucket", dynamodb_table_name="shared-images"
)


@pytest.fixture(scope="class")
def listing_client() -> Iterator[FlaskClient]:
    with moto_environment(SHARED_SETTINGS):
        yield create_app(SHARED_SETTINGS).test_client()


@pytest.fixture(scope="class")
def gallery(listing_client: FlaskClient) -> dict[str, dict[str, Any]]:
    """Five images of two users, uploaded oldest first."""
    client = listing_client
    return {
        "alice_sunset": upload(client, user_id="alice", tags='["nature", "sunset"]'),
        "alice_nature": upload(client, png(), user_id="alice", tags='["nature"]', filename="a.png"),
        "bob_city": upload(client, user_id="bob", tags='["city", "sunset"]'),
        "bob_plain": upload(client, png(), user_id="bob", filename="b.png"),
        "alice_all": upload(client, user_id="alice", tags='["city", "nature", "sunset"]'),
    }


def ids_of(gallery: dict[str, dict[str, Any]], *names: str) -> set[str]:
    return {gallery[name]["image_id"] for name in names}


Gallery = dict[str, dict[str, Any]]


class TestListing:
    def test_without_filters_returns_everything_newest_first(
        self, listing_client: FlaskClient, gallery: Gallery
    ) -> None:
        body = listing(listing_client)

        ids = [item["image_id"] for item in body["items"]]
        assert set(ids) == ids_of(gallery, *gallery)
        assert ids == sorted(ids, reverse=True)
        assert body["next_cursor"] is None
        assert all(item["status"] == "READY" for item in body["items"])
        assert body["items"][0] == gallery["alice_all"]

    def test_by_user(self, listing_client: FlaskClient, gallery: Gallery) -> None:
        client = listing_client
        assert set(listed_ids(client, "?user_id=alice")) == ids_of(
            gallery, "alice_sunset", "alice_nature", "alice_all"
        )
        assert set(listed_ids(client, "?user_id=bob")) == ids_of(gallery, "bob_city", "bob_plain")
        assert listed_ids(client, "?user_id=nobody") == []

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("?tags=nature", {"alice_sunset", "alice_nature", "alice_all"}),
            ("?tags=sunset&tags=nature", {"alice_sunset", "alice_all"}),
            ("?tags=sunset,nature", {"alice_sunset", "alice_all"}),
            ("?tags=city&tags=nature,sunset", {"alice_all"}),
            ("?tags=SUNSET", {"alice_sunset", "bob_city", "alice_all"}),
            ("?tags=city&user_id=bob", {"bob_city"}),
            ("?tags=nature&tags=missing", set()),
        ],
    )
    def test_by_tags_requires_all_of_them(
        self, listing_client: FlaskClient, gallery: Gallery, query: str, expected: set[str]
    ) -> None:
        assert set(listed_ids(listing_client, query)) == ids_of(gallery, *expected)

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("?content_type=image/png", {"alice_nature", "bob_plain"}),
            ("?content_type=image/jpg", {"alice_sunset", "bob_city", "alice_all"}),
            ("?content_type=image/png&user_id=alice", {"alice_nature"}),
            ("?content_type=image/jpeg&tags=city", {"bob_city", "alice_all"}),
            ("?content_type=image/gif", set()),
        ],
    )
    def test_by_content_type(
        self, listing_client: FlaskClient, gallery: Gallery, query: str, expected: set[str]
    ) -> None:
        assert set(listed_ids(listing_client, query)) == ids_of(gallery, *expected)

    def test_by_dates(self, listing_client: FlaskClient, gallery: Gallery) -> None:
        client = listing_client
        everything = ids_of(gallery, *gallery)
        first = parse_time(gallery["alice_sunset"]["created_at"])
        last = parse_time(gallery["alice_all"]["created_at"])
        day = first.date()

        def iso(moment: datetime) -> str:
            return moment.isoformat().replace("+00:00", "Z")

        assert set(listed_ids(client, f"?date_from={day}&date_to={last.date()}")) == everything
        assert set(listed_ids(client, f"?date_from={iso(first - timedelta(seconds=1))}")) == (
            everything
        )
        assert set(listed_ids(client, f"?date_to={iso(last + timedelta(seconds=1))}")) == (
            everything
        )
        assert listed_ids(client, f"?date_to={day - timedelta(days=1)}") == []
        assert listed_ids(client, f"?date_from={last.date() + timedelta(days=1)}") == []
        assert set(listed_ids(client, f"?date_from={day}&user_id=bob")) == ids_of(
            gallery, "bob_city", "bob_plain"
        )
        assert set(listed_ids(client, f"?date_from={day}&tags=city")) == ids_of(
            gallery, "bob_city", "alice_all"
        )
        assert set(listed_ids(client, f"?date_from={day}&content_type=image/png")) == ids_of(
            gallery, "alice_nature", "bob_plain"
        )

    def test_limit_caps_the_page(self, listing_client: FlaskClient, gallery: Gallery) -> None:
        body = listing(listing_client, "?limit=2")

        assert len(body["items"]) == 2
        assert body["next_cursor"]

    @pytest.mark.parametrize(
        "filters",
        [
            "",
            "&user_id=alice",
            "&tags=nature",
            "&tags=nature&tags=sunset",
            "&content_type=image/jpeg",
            "&tags=sunset&user_id=alice",
        ],
    )
    def test_paging_through_next_cursor_visits_every_image_once_newest_first(
        self, listing_client: FlaskClient, gallery: Gallery, filters: str
    ) -> None:
        client = listing_client
        expected = set(listed_ids(client, "?limit=100" + filters))
        assert len(expected) >= 2

        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(10):
            query = f"?limit=1{filters}" + (f"&cursor={cursor}" if cursor else "")
            body = listing(client, query)
            assert len(body["items"]) <= 1
            seen.extend(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break

        ids = [item["image_id"] for item in seen]
        assert len(ids) == len(set(ids)) == len(expected)
        assert set(ids) == expected
        assert ids == sorted(ids, reverse=True)
        created = [parse_time(item["created_at"]) for item in seen]
        assert created == sorted(created, reverse=True)

    def test_a_cursor_works_with_another_page_size(
        self, listing_client: FlaskClient, gallery: Gallery
    ) -> None:
        first = listing(listing_client, "?limit=2")
        rest = listing(listing_client, f"?limit=100&cursor={first['next_cursor']}")

        ids = [i["image_id"] for i in first["items"]] + [i["image_id"] for i in rest["items"]]
        assert sorted(ids) == sorted(ids_of(gallery, *gallery))
        assert rest["next_cursor"] is None


# --- get, patch ---------------------------------------------------------------------------


def test_patch_changes_description_tags_and_metadata_but_never_the_bytes(
    client: FlaskClient, aws: Settings
) -> None:
    data = jpeg()
    created = upload(client, data, description="old", tags=SEED_TAGS, metadata='{"a": 1}')
    image_id = created["image_id"]

    response = client.patch(
        f"/images/{image_id}",
        json={"description": "  new  ", "tags": ["Beach", "sunset"], "metadata": {"b": "x"}},
    )

    assert response.status_code == 200
    patched = response.get_json()
    assert patched["description"] == "new"
    assert patched["tags"] == ["beach", "sunset"]
    assert patched["metadata"] == {"b": "x"}
    assert patched["sha256"] == created["sha256"] == hashlib.sha256(data).hexdigest()
    assert patched["size_bytes"] == created["size_bytes"]
    assert patched["created_at"] == created["created_at"]
    assert parse_time(patched["updated_at"]) >= parse_time(created["updated_at"])
    assert client.get(f"/images/{image_id}").get_json() == patched
    assert object_bytes(aws, image_id) == data
    # The listings follow the new tags.
    assert image_id not in listed_ids(client, "?tags=nature")
    assert image_id in listed_ids(client, "?tags=beach")
    assert image_id in listed_ids(client, "?tags=sunset")
    assert image_id in listed_ids(client, "?tags=beach&user_id=user123")
    assert image_id not in listed_ids(client, "?tags=nature&user_id=user123")


def test_patch_with_empty_tags_removes_the_image_from_tag_listings(client: FlaskClient) -> None:
    created = upload(client, tags=SEED_TAGS)

    response = client.patch(f"/images/{created['image_id']}", json={"tags": []})

    assert response.status_code == 200
    assert response.get_json()["tags"] == []
    assert listed_ids(client, "?tags=nature") == []
    assert listed_ids(client) == [created["image_id"]]


# --- download -----------------------------------------------------------------------------


# --- delete -------------------------------------------------------------------------------


def test_delete_removes_bytes_metadata_and_listing_entries(
    client: FlaskClient, aws: Settings
) -> None:
    kept = upload(client, tags=SEED_TAGS)
    gone = upload(client, png(), tags=SEED_TAGS, filename="x.png")
    image_id = gone["image_id"]

    response = client.delete(f"/images/{image_id}")

    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/images/{image_id}").status_code == 404
    assert client.get(f"/images/{image_id}/download").status_code == 404
    assert client.patch(f"/images/{image_id}", json={"description": "x"}).status_code == 404
    assert client.delete(f"/images/{image_id}").status_code == 404
    assert object_bytes(aws, image_id) is None
    assert object_bytes(aws, kept["image_id"]) is not None
    for query in ("", "?user_id=user123", "?tags=nature", "?content_type=image/png"):
        assert image_id not in listed_ids(client, query), query
    assert listed_ids(client) == [kept["image_id"]]


# --- health, docs, headers ----------------------------------------------------------------


# --- tests that need no clean slate share one moto environment (class scope) -------------


class TestOnASharedMock:
    """Uploads here use the class's own environment; none asserts on global listings."""

    @pytest.fixture(scope="class")
    @classmethod
    def aws(cls) -> Iterator[Settings]:
        with moto_environment(SHARED_SETTINGS):
            yield SHARED_SETTINGS

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls, aws: Settings) -> FlaskClient:
        return create_app(aws).test_client()

    def test_given_a_png_sent_without_declared_type_when_uploading_then_the_type_is_sniffed(
        self,
        client: FlaskClient,
    ) -> None:
        body = upload(client, png((7, 5)), filename="upload.bin")

        assert body["content_type"] == "image/png"
        assert (body["width"], body["height"]) == (7, 5)

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (encode("GIF"), "image/gif"),
            (encode("WEBP"), "image/webp"),
            (animated("GIF", frames=3), "image/gif"),
        ],
        ids=["gif", "webp", "animated-gif"],
    )
    def test_every_allowed_format_is_accepted(
        self, client: FlaskClient, data: bytes, content_type: str
    ) -> None:
        body = upload(client, data, filename="picture")

        assert body["content_type"] == content_type

    def test_given_tags_with_case_spaces_and_duplicates_then_they_are_normalised(
        self,
        client: FlaskClient,
    ) -> None:
        body = upload(client, tags='["  Nature ", "SUNSET", "nature", "Golden   Hour"]')

        assert body["tags"] == ["nature", "sunset", "golden hour"]

    def test_given_repeated_tags_fields_when_uploading_then_all_tags_are_kept(
        self,
        client: FlaskClient,
    ) -> None:
        form = upload_form(jpeg())
        form["tags"] = ["nature", "sunset", "beach,sea"]

        response = client.post("/images", data=form, content_type="multipart/form-data")

        assert response.status_code == 201
        assert response.get_json()["tags"] == ["nature", "sunset", "beach", "sea"]

    def test_given_metadata_json_and_extra_fields_then_both_are_kept_as_custom_metadata(
        self,
        client: FlaskClient,
    ) -> None:
        body = upload(
            client,
            metadata='{"camera": "X100", "iso": 200, "flash": false, "rating": 4.5, "note": null}',
            location="Paris",
        )

        assert body["metadata"] == {
            "camera": "X100",
            "iso": 200,
            "flash": False,
            "rating": 4.5,
            "note": None,
            "location": "Paris",
        }
        # ... and they survive the round trip through DynamoDB.
        fetched = uploaded_metadata(client, body["image_id"])
        assert fetched["metadata"] == body["metadata"]

    def test_given_a_custom_field_both_in_metadata_and_as_form_field_then_422(
        self, client: FlaskClient, aws: Settings
    ) -> None:
        response = client.post(
            "/images",
            data=upload_form(
                jpeg(), user_id="conflicted", metadata='{"location": "Paris"}', location="Rome"
            ),
            content_type="multipart/form-data",
        )

        assert response.status_code == 422
        body = response.get_json()
        assert "location" in body["message"]
        assert "location" in body["errors"]
        assert listed_ids(client, "?user_id=conflicted") == []

    # The aborted multipart parse leaves a spooled request file unclosed (a ResourceWarning).
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    def test_given_a_200k_image_within_the_limit_when_uploading_then_201(
        self,
        client: FlaskClient,
    ) -> None:
        data = png_with_line_breaks(200 * 1024)
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # a valid image, well under the 512 KiB limit

        response = client.post(
            "/images",
            data=upload_form(data, filename="big.png"),
            content_type="multipart/form-data",
        )
        gc.collect()  # any unclosed spooled file is reported here, not in another test

        assert response.status_code == 201, response.get_json()
        assert response.get_json()["sha256"] == hashlib.sha256(data).hexdigest()

    def test_get_returns_the_uploaded_metadata(self, client: FlaskClient) -> None:
        created = upload(client, description="hello", tags=SEED_TAGS, metadata='{"a": "b"}')

        response = client.get(f"/images/{created['image_id']}")

        assert response.status_code == 200
        assert response.get_json() == created

    def test_patch_of_one_field_leaves_the_others(self, client: FlaskClient) -> None:
        created = upload(client, description="keep", tags=SEED_TAGS, metadata='{"a": 1}')

        response = client.patch(f"/images/{created['image_id']}", json={"description": "changed"})

        assert response.status_code == 200
        patched = response.get_json()
        assert patched["description"] == "changed"
        assert patched["tags"] == created["tags"]
        assert patched["metadata"] == created["metadata"]

    def test_download_gives_a_presigned_url_serving_the_bytes_with_a_safe_filename(
        self, client: FlaskClient, aws: Settings
    ) -> None:
        data = jpeg()
        created = upload(client, data, filename="../../etc/pässwd; x.jpg")
        assert created["original_filename"] == "pässwd; x.jpg"

        response = client.get(f"/images/{created['image_id']}/download")

        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_json()
        assert body["expires_in"] == aws.download_url_ttl
        url = urlsplit(body["download_url"])
        assert url.path.endswith("/" + object_key(created["image_id"]))
        params = parse_qs(url.query)
        disposition = params["response-content-disposition"][0]
        assert disposition.startswith('attachment; filename="passwd_ x.jpg"')
        assert "filename*=UTF-8''p%C3%A4sswd%3B%20x.jpg" in disposition
        assert params["response-content-type"] == ["image/jpeg"]
        assert params["X-Amz-Expires"] == [str(aws.download_url_ttl)]

        fetched = requests.get(body["download_url"], timeout=5)  # moto intercepts the call

        assert fetched.status_code == 200
        assert fetched.content == data
        assert fetched.headers["Content-Type"] == "image/jpeg"
        assert fetched.headers["Content-Disposition"] == disposition

    @pytest.mark.parametrize(
        ("data", "filename", "download_name"),
        [
            (jpeg(), "x.html", "x.jpg"),
            (jpeg(), "photo.JPEG", "photo.jpg"),
            (png(), "picture", "picture.png"),
            (png(), "archive.tar.gz", "archive.tar.png"),
            (encode("GIF"), "anim.gif", "anim.gif"),
        ],
        ids=["html-name", "upper-case", "no-extension", "two-dots", "kept"],
    )
    def test_the_download_name_takes_its_extension_from_the_detected_type(
        self, client: FlaskClient, data: bytes, filename: str, download_name: str
    ) -> None:
        # Declared as undeclared: the test client would guess text/html from the name (a 415).
        undeclared = "application/octet-stream"
        created = upload(client, data, filename=filename, file_content_type=undeclared)
        assert created["original_filename"] == filename

        url = client.get(f"/images/{created['image_id']}/download").get_json()["download_url"]

        disposition = parse_qs(urlsplit(url).query)["response-content-disposition"][0]
        assert f'filename="{download_name}"' in disposition
        assert disposition.endswith(f"filename*=UTF-8''{download_name}")

    def test_download_with_redirect_answers_302_to_the_presigned_url(
        self, client: FlaskClient
    ) -> None:
        data = png()
        created = upload(client, data, filename="pic.png")

        response = client.get(f"/images/{created['image_id']}/download?redirect=true")

        assert response.status_code == 302
        assert response.headers["Cache-Control"] == "no-store"
        location = urlsplit(response.headers["Location"])
        assert location.scheme == "https"
        assert location.path.endswith("/" + object_key(created["image_id"]))
        assert parse_qs(location.query)["response-content-type"] == ["image/png"]
        assert "X-Amz-Signature" in parse_qs(location.query)
        assert requests.get(response.headers["Location"], timeout=5).content == data

    @pytest.mark.parametrize(("path", "status"), [("/health", "ok"), ("/health/ready", "ready")])
    def test_health_endpoints(self, client: FlaskClient, path: str, status: str) -> None:
        response = client.get(path)

        assert response.status_code == 200
        assert response.get_json()["status"] == status

    def test_openapi_document_describes_the_images_paths(self, client: FlaskClient) -> None:
        response = client.get("/openapi.json")

        assert response.status_code == 200
        spec = response.get_json()
        assert spec["openapi"].startswith("3.")
        paths = spec["paths"]
        assert {"get", "post"} <= set(paths["/images"])
        assert {"get", "patch", "delete"} <= set(paths["/images/{image_id}"])
        assert "get" in paths["/images/{image_id}/download"]
        assert "/health" in paths
        assert "/health/ready" in paths

    def test_openapi_document_is_valid_openapi_3(self, client: FlaskClient) -> None:
        spec = client.get("/openapi.json").get_json()

        # openapi-spec-validator reads each `pattern` with Python's re, which has no \p{...}:
        # it gets Python's spelling of the class; test_openapi_document.py checks the patterns
        # as JSON Schema reads them (ECMA 262).
        validate_openapi(json.loads(json.dumps(spec).replace(r"\\p{L}\\p{N}", r"\\w")))
        upload_body = spec["paths"]["/images"]["post"]["requestBody"]["content"]
        assert "multipart/form-data" in upload_body

    def test_docs_page_is_html(self, client: FlaskClient) -> None:
        response = client.get("/docs")

        assert response.status_code == 200
        assert response.mimetype == "text/html"
        assert b"openapi.json" in response.data

    def test_every_response_carries_request_id_and_nosniff(self, client: FlaskClient) -> None:
        for path in ("/health", "/images", "/images/nope", "/missing", "/openapi.json"):
            response = client.get(path)

            assert response.headers["X-Content-Type-Options"] == "nosniff", path
            assert len(response.headers["X-Request-Id"]) == 32, path

    def test_a_well_formed_request_id_is_echoed_and_a_bad_one_replaced(
        self, client: FlaskClient
    ) -> None:
        echoed = client.get("/health", headers={"X-Request-Id": "abc-123.X_y"})
        replaced = client.get("/health", headers={"X-Request-Id": "bad id\twith spaces"})

        assert echoed.headers["X-Request-Id"] == "abc-123.X_y"
        assert replaced.headers["X-Request-Id"] != "bad id\twith spaces"
        assert len(replaced.headers["X-Request-Id"]) == 32


def stored_bytes(settings: Settings, url: str) -> bytes:
    """The object a presigned URL of the bucket names (read with boto3: moto is in-process)."""
    key = urlsplit(url).path.split(f"/{settings.s3_bucket_name}/", 1)[-1].lstrip("/")
    s3 = boto3.client("s3", region_name=settings.aws_default_region)
    body: bytes = s3.get_object(Bucket=settings.s3_bucket_name, Key=key)["Body"].read()
    return body


def test_thumbnail_redirects_to_a_stored_upright_rendition_without_exif(
    client: FlaskClient, aws: Settings
) -> None:
    uploaded = client.post(
        "/images", data=upload_form(sideways_jpeg()), content_type="multipart/form-data"
    )
    image_id = uploaded.get_json()["image_id"]

    thumbnail = client.get(f"/images/{image_id}/thumbnail?size=256")

    assert thumbnail.status_code == 302
    location = thumbnail.headers["Location"]
    assert f"renditions/{image_id}/256.jpeg" in location
    assert thumbnail.headers["ETag"] == f'"{image_id}-256-jpeg"'
    assert thumbnail.headers["Cache-Control"] == "private, max-age=840"
    with Image.open(io.BytesIO(stored_bytes(aws, location))) as rendition:
        assert (rendition.format, rendition.size) == ("JPEG", (128, 256))
        assert not rendition.getexif()
        assert rendition.convert("RGB").getpixel((64, 5)) == pytest.approx((255, 0, 0), abs=40)
    # a client holding it gets 304 before any work
    again = client.get(
        f"/images/{image_id}/thumbnail?size=256",
        headers={"If-None-Match": thumbnail.headers["ETag"]},
    )
    assert again.status_code == 304
    # the metadata lists it; as JSON instead of a redirect
    listed = client.get(f"/images/{image_id}").get_json()["renditions"]
    assert listed == [{"size": 256, "format": "jpeg", "width": 128, "height": 256}]
    link = client.get(f"/images/{image_id}/thumbnail?size=256&redirect=false")
    assert link.status_code == 200
    assert {k: v for k, v in link.get_json().items() if k != "url"} == {
        "expires_in": 900,
        "width": 128,
        "height": 256,
        "format": "jpeg",
    }


def test_thumbnail_format_follows_accept(client: FlaskClient, aws: Settings) -> None:
    uploaded = client.post(
        "/images", data=upload_form(jpeg((900, 600))), content_type="multipart/form-data"
    )
    image_id = uploaded.get_json()["image_id"]
    webp = client.get(
        f"/images/{image_id}/thumbnail?size=1024&format=auto",
        headers={"Accept": "image/webp,image/*;q=0.8"},
    )
    assert webp.headers["ETag"] == f'"{image_id}-1024-webp"'
    assert webp.headers["Vary"] == "Accept"
    with Image.open(io.BytesIO(stored_bytes(aws, webp.headers["Location"]))) as rendition:
        assert (rendition.format, rendition.size) == ("WEBP", (900, 600))  # never enlarged
    plain = client.get(f"/images/{image_id}/thumbnail", headers={"Accept": "*/*"})
    assert plain.headers["ETag"] == f'"{image_id}-256-jpeg"'


def test_exif_is_reported_and_gps_removed_from_the_original(
    client: FlaskClient, aws: Settings
) -> None:
    uploaded = client.post(
        "/images", data=upload_form(sideways_jpeg()), content_type="multipart/form-data"
    ).get_json()
    assert (uploaded["width"], uploaded["height"]) == (300, 600)
    assert (uploaded["pixel_width"], uploaded["pixel_height"]) == (600, 300)
    assert uploaded["exif"]["taken_at"] == "2024-05-06T07:08:09+02:00"
    # AUTH_MODE=none: no caller is known to be the owner, who alone sees either.
    assert "gps_present" not in uploaded["exif"]
    assert "location" not in uploaded
    # the placeholder is the worker's: none until its job runs
    assert (uploaded["blurhash"], uploaded["dominant_color"]) == (None, None)
    assert run_jobs(aws) == 1
    derived = client.get(f"/images/{uploaded['image_id']}").get_json()
    assert derived["blurhash"]
    assert derived["dominant_color"].startswith("#")
    link = client.get(f"/images/{uploaded['image_id']}/download").get_json()["download_url"]
    original = stored_bytes(aws, link)
    assert not has_gps(original)
    assert hashlib.sha256(original).hexdigest() == uploaded["sha256"]
    # found by capture time
    found = client.get(
        "/images", query_string={"user_id": uploaded["user_id"], "taken_from": "2024-05-06"}
    ).get_json()["items"]
    assert [item["image_id"] for item in found] == [uploaded["image_id"]]


def test_listings_show_exif_and_renditions_as_a_get_does(
    client: FlaskClient, aws: Settings
) -> None:
    uploaded = client.post(
        "/images", data=upload_form(sideways_jpeg()), content_type="multipart/form-data"
    ).get_json()
    image_id, user = uploaded["image_id"], uploaded["user_id"]
    # WHEN a rendition is made (recorded after the upload), THEN every listing shows it too
    assert client.get(f"/images/{image_id}/thumbnail?size=256").status_code == 302
    shown = client.get(f"/images/{image_id}").get_json()
    assert shown["renditions"]
    assert shown["exif"]["taken_at"]
    queries: list[dict[str, str]] = [
        {"user_id": user},
        {"content_type": "image/jpeg"},
        {"user_id": user, "taken_from": "2024-05-06"},
        {"taken_from": "2024-05-01", "taken_to": "2024-05-31"},
    ]
    for query in queries:
        assert client.get("/images", query_string=query).get_json()["items"] == [shown], query


def test_renditions_are_deleted_with_the_image(client: FlaskClient, aws: Settings) -> None:
    image_id = client.post(
        "/images", data=upload_form(jpeg((600, 400))), content_type="multipart/form-data"
    ).get_json()["image_id"]
    assert client.get(f"/images/{image_id}/thumbnail").status_code == 302
    s3 = boto3.client("s3", region_name=aws.aws_default_region)
    prefix = f"renditions/{image_id}/"
    assert s3.list_objects_v2(Bucket=aws.s3_bucket_name, Prefix=prefix)["KeyCount"] == 1
    assert client.delete(f"/images/{image_id}").status_code == 204
    assert s3.list_objects_v2(Bucket=aws.s3_bucket_name, Prefix=prefix)["KeyCount"] == 0


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumbnail", 404),
        ("/images/not-an-id/thumbnail", 400),
        ("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumbnail?size=100", 422),
        ("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumbnail?format=gif", 422),
        ("/images?taken_from=2024-01-01", 422),
        ("/images?taken_from=2024-01-01&tags=x&user_id=a", 422),
        ("/images/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumbnail?width=64", 422),
    ],
)
def test_thumbnail_errors_are_json(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json()["code"] == status
