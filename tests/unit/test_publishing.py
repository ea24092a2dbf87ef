"""The publishing path, whichever way an image arrives, on the in-memory fakes and real Pillow."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import image_limits, upload_limits
from service.domain.cursors import CursorCodec
from service.domain.model import Caller, Image, ImageQuery, NewImage
from service.domain.sessions import NewUpload
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.processing import JobProcessor
from service.usecases.upload_sessions import UploadService
from tests.support.aws import CURSOR_SECRET
from tests.support.fakes import (
    FixedClock,
    InMemoryImageRepository,
    InMemoryImageStore,
    InMemoryJobQueue,
    InMemoryUploadSessions,
    InMemoryUploadStore,
)
from tests.support.images import START, png

ALICE = Caller(user_id="alice")


class TickingClock(FixedClock):
    """Time moves on between any two readings, as it does in a real request."""

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=7)
        return self.now


class Services:
    """The image service, upload sessions and the worker on one set of fakes."""

    def __init__(self) -> None:
        clock = TickingClock(START)
        store = InMemoryImageStore()
        self.jobs = InMemoryJobQueue()
        self.images = ImageService(
            store=store,
            repository=InMemoryImageRepository(),
            processor=PillowImageProcessor(max_pixels=4_000_000, max_frames=10),
            cursors=CursorCodec(CURSOR_SECRET),
            limits=image_limits(Settings()),
            jobs=self.jobs,
            clock=clock,
        )
        self.incoming = InMemoryUploadStore(objects=store.objects)
        sessions = InMemoryUploadSessions()
        self.uploads = UploadService(
            publisher=self.images.publisher,
            store=self.incoming,
            sessions=sessions,
            jobs=self.jobs,
            limits=upload_limits(Settings()),
            clock=clock,
        )
        self.processor = JobProcessor(
            publisher=self.images.publisher,
            store=self.incoming,
            sessions=sessions,
        )


def posted(services: Services) -> Image:
    new = NewImage(user_id=None, original_filename="a.png", declared_content_type=None)
    return services.images.upload(ALICE, new, io.BytesIO(png())).image


def through_a_session(services: Services) -> Image:
    data = png()
    new = NewUpload(user_id=None, filename="a.png", content_type="image/png", size=len(data))
    ticket = services.uploads.open(ALICE, new)
    services.incoming.objects[ticket.session.object_key] = data
    session = services.uploads.complete(ALICE, ticket.session.upload_id)
    assert services.jobs.run_all(services.processor) == 1
    assert session.image_id is not None
    image = services.images.publisher.published(session.image_id)
    assert image is not None
    return image


@pytest.mark.parametrize("arrive", [posted, through_a_session])
def test_an_image_is_listed_in_the_date_range_of_its_created_at(
    arrive: Callable[[Services], Image],
) -> None:
    # GIVEN an image published while the clock moves on
    services = Services()
    image = arrive(services)

    # WHEN the listing is asked for the instant the image says it was created
    at = image.created_at
    found = services.images.search(ALICE, ImageQuery(date_from=at, date_to=at)).items

    # THEN it is there: its id, which the range bounds, was made at that instant
    assert [i.image_id for i in found] == [image.image_id]
