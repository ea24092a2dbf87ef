"""The gallery's uploads (upload sessions opened and completed by the page, then processed by
the worker) store the original without the location it carried, as every other upload path does
(tests/functional/test_stored_originals_hold_no_location.py)."""

from __future__ import annotations

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.domain.model import object_key
from tests.support import located_images as located
from tests.support.exiftool import exiftool, locations
from tests.support.gallery import csrf_of, get, jwt_settings, post, sign_in
from tests.support.jobs import run_jobs


@pytest.mark.parametrize(
    "sent",
    [located.jpeg_with_motion_photo_trailer(), located.png_with_exif_profile()],
    ids=["f-jpeg-motion-photo-trailer", "a-png-exif-profile-ztxt"],
)
def test_a_photo_dropped_on_the_page_is_stored_without_its_location(
    gallery: Flask, browser: FlaskClient, sent: bytes
) -> None:
    exiftool()
    assert locations(sent)
    sign_in(browser, "alice")
    headers = {"X-CSRFToken": csrf_of(get(browser, "/")), "Accept": "application/json"}
    kind = "image/jpeg" if sent.startswith(b"\xff\xd8") else "image/png"
    body = {"filename": "dropped", "content_type": kind, "size": len(sent)}
    ticket = post(browser, "/photo-uploads", json=body, headers=headers).get_json()
    s3 = boto3.client("s3")
    bucket = jwt_settings().s3_bucket_name
    # The page's script posts the bytes to S3 itself; here boto3 puts them in its place.
    s3.put_object(Bucket=bucket, Key=ticket["fields"]["key"], Body=sent)

    watch = f"/photo-uploads/{ticket['upload_id']}"

    completed = post(browser, f"{watch}/complete", json={}, headers=headers)
    run_jobs(jwt_settings())
    done = get(browser, watch, headers=headers)

    assert completed.status_code == 202, completed.get_json()
    assert done.get_json()["status"] == "READY", done.get_json()
    stored = s3.get_object(Bucket=bucket, Key=object_key(done.get_json()["image_id"]))
    assert locations(stored["Body"].read()) == []
