"""Whether an upload carried GPS is the owner's business only, like its location: the API and
the gallery show ``exif.gps_present`` to the owner and to nobody else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.gallery import KEYS, get, published, sign_in
from tests.support.images import sideways_jpeg


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS.token(user)}"}


def test_the_api_shows_gps_present_to_the_owner_only(gallery: Flask) -> None:
    client = gallery.test_client()
    image_id = published(gallery, "alice", sideways_jpeg())

    def seen(headers: dict[str, str]) -> Any:
        return client.get(f"/images/{image_id}", headers=headers).get_json()

    owner = seen(bearer("alice"))
    assert owner["exif"]["gps_present"] is True
    assert "location" in owner
    for shown in (
        seen(bearer("bob")),
        *client.get("/images", query_string={"user_id": "alice"}, headers=bearer("bob")).get_json()[
            "items"
        ],
    ):
        assert shown["exif"]["make"] == "Canon"
        assert "gps_present" not in shown["exif"]
        assert "location" not in shown


def test_the_gallery_shows_no_one_else_whether_there_was_gps(
    gallery: Flask, browser: FlaskClient
) -> None:
    image_id = published(gallery, "alice", sideways_jpeg())
    sign_in(browser, "bob")

    page = get(browser, f"/photos/{image_id}").get_data(as_text=True)

    assert "EOS R5" in page
    assert "gps" not in page.lower()
