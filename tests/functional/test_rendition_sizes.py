"""Rendition sizes are a setting: a thumbnail request that names none gets the smallest one
this deployment makes, whatever the sizes are."""

from __future__ import annotations

from service.entrypoints.app import create_app
from tests.support.aws import moto_environment, small_settings
from tests.support.forms import upload_form
from tests.support.images import jpeg


def test_a_thumbnail_without_a_size_is_the_smallest_configured_one() -> None:
    settings = small_settings(rendition_sizes=(96, 512), rendition_formats=("jpeg",))
    with moto_environment(settings):
        client = create_app(settings).test_client()
        created = client.post("/images", data=upload_form(jpeg((800, 600))))
        assert created.status_code == 201, created.get_json()
        image_id = created.get_json()["image_id"]

        answer = client.get(f"/images/{image_id}/thumbnail?redirect=false")

    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["width"], answer.get_json()["height"]) == (96, 72)
