"""Duplicate detection: a user's same bytes make one image, on the fakes and on S3 + DynamoDB.

The claim on (user, SHA-256) is written in the publish transaction; these tests hold the
repository and the service to it, including two uploads racing past the pre-check.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from service.adapters.dynamodb.image_repository import DynamoDBImageRepository
from service.adapters.pillow_processor import PillowImageProcessor
from service.adapters.s3_image_store import S3ImageStore
from service.bootstrap import dynamodb_client, image_limits, s3_client
from service.domain.cursors import CursorCodec
from service.domain.errors import DuplicateImage
from service.domain.model import Caller, ImageQuery, NewImage
from service.ports import ImageRepository, ImageStore
from service.settings import Settings
from service.usecases.images import ImageService
from service.usecases.publishing import Published
from tests.support.fakes import InMemoryImageStore, InMemoryJobQueue
from tests.support.images import jpeg, make_image

ALICE = Caller(user_id="alice")
BOB = Caller(user_id="bob")


def build(repository: ImageRepository, store: ImageStore, *, dedupe: bool) -> ImageService:
    return ImageService(
        store=store,
        repository=repository,
        processor=PillowImageProcessor(max_pixels=1_000_000, max_frames=5),
        cursors=CursorCodec("dedupe-secret-0123456789"),
        limits=image_limits(Settings(max_file_size=1 << 20)),
        jobs=InMemoryJobQueue(),
        dedupe=dedupe,
    )


@pytest.fixture
def store_for(repository: ImageRepository, request: pytest.FixtureRequest) -> ImageStore:
    """The store that goes with ``repository``: in memory with the fake, S3 with DynamoDB."""
    if isinstance(repository, DynamoDBImageRepository):
        settings: Settings = request.getfixturevalue("aws")
        return S3ImageStore(s3_client(settings), settings.s3_bucket_name)
    return InMemoryImageStore()


@pytest.fixture
def service(repository: ImageRepository, store_for: ImageStore) -> ImageService:
    return build(repository, store_for, dedupe=True)


def upload(service: ImageService, caller: Caller, data: bytes, tag: str = "t") -> Published:
    new = NewImage(
        user_id=caller.user_id, original_filename="a.jpg", declared_content_type=None, tags=(tag,)
    )
    return service.upload(caller, new, io.BytesIO(data))


def listed(repository: ImageRepository, user: str) -> list[str]:
    return [i.image_id for i in repository.search(ImageQuery(user_id=user), None).items]


def objects(store: ImageStore, request: pytest.FixtureRequest) -> int:
    if isinstance(store, InMemoryImageStore):
        return len(store.objects)
    settings: Settings = request.getfixturevalue("aws")
    listing = s3_client(settings).list_objects_v2(Bucket=settings.s3_bucket_name)
    return len(listing.get("Contents", []))


# The repository's claim


def test_a_second_claim_on_the_same_bytes_is_refused_and_names_the_first(
    repository: ImageRepository,
) -> None:
    first, second = make_image(1), make_image(2)
    repository.publish(first, claim=True)
    with pytest.raises(DuplicateImage) as refused:
        repository.publish(second, claim=True)
    assert refused.value.image_id == first.image_id
    assert repository.get(second.image_id) is None
    assert listed(repository, "alice") == [first.image_id]
    assert repository.claim_of("alice", first.sha256) == first.image_id


def test_without_a_claim_the_same_bytes_publish_twice(repository: ImageRepository) -> None:
    first, second = make_image(1), make_image(2)
    for image in (first, second):
        repository.publish(image)
    assert sorted(listed(repository, "alice")) == sorted([first.image_id, second.image_id])
    assert repository.claim_of("alice", first.sha256) is None


def test_hiding_the_claimant_releases_the_claim(repository: ImageRepository) -> None:
    first = make_image(1)
    ready = repository.publish(first, claim=True)
    repository.hide(ready)
    assert repository.claim_of("alice", first.sha256) is None


def test_hiding_another_image_of_the_same_bytes_keeps_the_claim(
    repository: ImageRepository,
) -> None:
    # GIVEN an image published while duplicates were allowed, then a claimed one
    unclaimed, claimed = make_image(1), make_image(2)
    for image, claim in ((unclaimed, False), (claimed, True)):
        repository.publish(image, claim=claim)
    # WHEN the unclaimed one is deleted, THEN the claim still names the other
    stored = repository.get(unclaimed.image_id)
    assert stored is not None
    repository.hide(stored)
    assert repository.claim_of("alice", claimed.sha256) == claimed.image_id


# The service


def test_the_same_bytes_twice_make_one_image_and_the_second_answers_the_first(
    service: ImageService,
    repository: ImageRepository,
    store_for: ImageStore,
    request: pytest.FixtureRequest,
) -> None:
    first = upload(service, ALICE, jpeg(), tag="first")
    second = upload(service, ALICE, jpeg(), tag="second")
    assert not first.duplicate
    assert second.duplicate
    assert second.image == first.image  # the first image, untouched by the second's tags
    assert listed(repository, "alice") == [first.image.image_id]
    assert objects(store_for, request) == 1


def test_other_users_same_bytes_are_their_own_image(
    service: ImageService, repository: ImageRepository
) -> None:
    mine = upload(service, ALICE, jpeg())
    theirs = upload(service, BOB, jpeg())
    assert not theirs.duplicate
    assert theirs.image.image_id != mine.image.image_id
    assert listed(repository, "bob") == [theirs.image.image_id]


def test_other_bytes_are_a_new_image(service: ImageService, repository: ImageRepository) -> None:
    upload(service, ALICE, jpeg())
    other = upload(service, ALICE, jpeg(color="green"))
    assert not other.duplicate
    assert len(listed(repository, "alice")) == 2


def test_after_a_delete_the_same_bytes_make_a_new_image(
    service: ImageService, repository: ImageRepository
) -> None:
    first = upload(service, ALICE, jpeg())
    service.delete(ALICE, first.image.image_id)
    again = upload(service, ALICE, jpeg())
    assert not again.duplicate
    assert again.image.image_id != first.image.image_id
    assert listed(repository, "alice") == [again.image.image_id]


def test_a_claim_left_without_its_image_is_released(
    service: ImageService, repository: ImageRepository
) -> None:
    # GIVEN a claim whose image was removed by hand, without a delete
    first = upload(service, ALICE, jpeg())
    repository.remove(first.image.image_id)
    # WHEN the same bytes are uploaded, THEN they make a new image, which now holds the claim
    again = upload(service, ALICE, jpeg())
    assert not again.duplicate
    # (newest first; the hand-made removal may have left the first image's listing entries)
    assert listed(repository, "alice")[0] == again.image.image_id
    assert repository.claim_of("alice", again.image.sha256) == again.image.image_id


def test_releasing_a_claim_takes_only_the_named_image_s(repository: ImageRepository) -> None:
    image = make_image(1)
    repository.publish(image, claim=True)
    repository.release_claim("alice", image.sha256, "someone else")
    assert repository.claim_of("alice", image.sha256) == image.image_id
    repository.release_claim("alice", image.sha256, image.image_id)
    repository.release_claim("alice", image.sha256, image.image_id)
    assert repository.claim_of("alice", image.sha256) is None


def test_with_dedupe_off_the_same_bytes_are_stored_twice(
    repository: ImageRepository, store_for: ImageStore, request: pytest.FixtureRequest
) -> None:
    service = build(repository, store_for, dedupe=False)
    first = upload(service, ALICE, jpeg())
    second = upload(service, ALICE, jpeg())
    assert not second.duplicate
    assert len({first.image.image_id, second.image.image_id}) == 2
    assert len(listed(repository, "alice")) == 2
    assert objects(store_for, request) == 2


class Blind:
    """A repository that sees no claim before publishing: both uploads pass the pre-check and
    meet at the transaction, as two concurrent requests do."""

    def __init__(self, inner: ImageRepository) -> None:
        self._inner = inner

    def claim_of(self, user_id: str, sha256: str) -> str | None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_duplicate_found_only_by_the_transaction_discards_what_it_stored(
    repository: ImageRepository, store_for: ImageStore, request: pytest.FixtureRequest
) -> None:
    service = build(Blind(repository), store_for, dedupe=True)
    first = upload(service, ALICE, jpeg())
    second = upload(service, ALICE, jpeg())
    assert second.duplicate
    assert second.image == first.image
    assert listed(repository, "alice") == [first.image.image_id]
    assert objects(store_for, request) == 1
    assert list(repository.unfinished()) == []


class Serialized:
    """A DynamoDB client that makes one call at a time. moto is not thread-safe: a transaction
    copies the table while another thread writes to it, and a cancelled one restores a copy
    taken before it began, undoing what others wrote meanwhile. DynamoDB's own calls are
    atomic and its transactions serializable, which is what this restores; the uploads still
    interleave freely between calls, so they race up to the transaction."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


def test_concurrent_uploads_of_the_same_bytes_make_one_image(
    repository: ImageRepository, store_for: ImageStore, request: pytest.FixtureRequest
) -> None:
    if isinstance(repository, DynamoDBImageRepository):
        settings: Settings = request.getfixturevalue("aws")
        client = Serialized(dynamodb_client(settings))
        repository = DynamoDBImageRepository(client, settings.dynamodb_table_name)  # type: ignore[arg-type]
    service = build(Blind(repository), store_for, dedupe=True)
    start = threading.Barrier(4)
    results: list[Published] = []
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(upload(service, ALICE, jpeg()))
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len({published.image.image_id for published in results}) == 1
    assert sum(not published.duplicate for published in results) == 1
    assert len(listed(repository, "alice")) == 1
