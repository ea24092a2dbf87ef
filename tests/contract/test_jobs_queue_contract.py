"""The jobs queue: the in-memory fake and SqsJobQueue on moto's SQS (the queue and its dead
letters as ``create-resources`` makes them) hand the worker the jobs sent, as they were sent;
SQS's deliveries are counted, the last one before the dead letters is marked, and the dead
letters can be listed without being taken."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest

from service.adapters.sqs_jobs import SqsJobQueue
from service.bootstrap import sqs_client
from service.domain.errors import StorageUnavailable
from service.domain.jobs import Delivery, Job, JobKind, JobUnreadable
from service.domain.model import new_image_id
from service.entrypoints.provisioning import DEAD_LETTERS_SUFFIX, MAX_RECEIVES
from service.settings import Settings
from service.usecases.processing import JobProcessor
from tests.support.fakes import InMemoryJobQueue
from tests.support.images import START

UPLOAD = Job(JobKind.UPLOAD, new_image_id(START))
DERIVE = Job(JobKind.DERIVE, new_image_id(START))


class Recorder:
    """Stands for the worker's processor: the deliveries it was handed."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    def run(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)


def sqs_queue(settings: Settings, name: str | None = None) -> SqsJobQueue:
    return SqsJobQueue(sqs_client(settings), name or settings.jobs_queue_name)


class Queue:
    """One of the two queues, and what a worker takes from it: for the fake, ``run_all``; for
    SQS, ``receive``, ``delivery`` and ``delete`` as the worker does."""

    def __init__(self, fake: InMemoryJobQueue | None, sqs: SqsJobQueue | None) -> None:
        self.fake, self.sqs = fake, sqs

    def send(self, job: Job) -> None:
        if self.fake is not None:
            self.fake.send(job)
        else:
            assert self.sqs is not None
            self.sqs.send(job)

    def taken(self) -> list[Delivery]:
        recorder = Recorder()
        if self.fake is not None:
            self.fake.run_all(cast(JobProcessor, recorder))
            return recorder.deliveries
        assert self.sqs is not None
        while batch := self.sqs.receive(wait_seconds=0, max_messages=10):
            for received in batch:
                recorder.run(self.sqs.delivery(received))
                self.sqs.delete(received)
        return recorder.deliveries


@pytest.fixture(params=["fake", "sqs"])
def queue(request: pytest.FixtureRequest) -> Iterator[Queue]:
    if request.param == "fake":
        yield Queue(InMemoryJobQueue(), None)
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield Queue(None, sqs_queue(settings))


@pytest.fixture(params=["fake", "sqs"])
def unanswering_queue(request: pytest.FixtureRequest) -> Iterator[Queue]:
    """A queue that does not answer: the fake told so, SQS asked for a queue not there."""
    if request.param == "fake":
        yield Queue(InMemoryJobQueue(answering=False), None)
    else:
        settings: Settings = request.getfixturevalue("aws")
        yield Queue(None, sqs_queue(settings, "no-such-queue"))


def test_the_jobs_sent_are_taken_as_sent_once_each(queue: Queue) -> None:
    queue.send(UPLOAD)
    queue.send(DERIVE)

    taken = queue.taken()

    # SQS does not keep the order of a standard queue: the jobs, whatever their order
    assert sorted(taken, key=lambda d: d.job.kind) == [
        Delivery(DERIVE, attempt=1, last_attempt=False),
        Delivery(UPLOAD, attempt=1, last_attempt=False),
    ]
    assert queue.taken() == []  # taken and deleted: not handed over again


def test_the_same_job_sent_twice_is_taken_twice(queue: Queue) -> None:
    # At least once: the worker makes a second run harmless, the queue does not dedupe.
    queue.send(UPLOAD)
    queue.send(UPLOAD)

    assert [d.job for d in queue.taken()] == [UPLOAD, UPLOAD]


def test_a_queue_that_does_not_answer_fails_the_send(unanswering_queue: Queue) -> None:
    with pytest.raises(StorageUnavailable):
        unanswering_queue.send(UPLOAD)


# --- SQS alone: deliveries counted, the last one marked, the dead letters ------------------------


@pytest.fixture
def jobs(aws: Settings) -> SqsJobQueue:
    """The jobs queue, its messages visible again at once after a receive (the worker failed
    them and their visibility timeout is over)."""
    queue = sqs_queue(aws)
    sqs_client(aws).set_queue_attributes(
        QueueUrl=queue.url(), Attributes={"VisibilityTimeout": "0"}
    )
    return queue


def test_the_queue_gives_a_job_as_many_deliveries_as_create_resources_sets(
    jobs: SqsJobQueue,
) -> None:
    assert MAX_RECEIVES == 5
    assert jobs.max_receives() == MAX_RECEIVES


def test_each_delivery_is_counted_and_the_last_one_is_marked(jobs: SqsJobQueue) -> None:
    jobs.send(UPLOAD)

    deliveries = []
    for _ in range(MAX_RECEIVES):
        (received,) = jobs.receive(wait_seconds=0)
        deliveries.append(jobs.delivery(received))  # failed: not deleted

    assert [(d.job, d.attempt, d.last_attempt) for d in deliveries] == [
        (UPLOAD, 1, False),
        (UPLOAD, 2, False),
        (UPLOAD, 3, False),
        (UPLOAD, 4, False),
        (UPLOAD, 5, True),
    ]


def test_a_job_that_failed_every_delivery_is_listed_in_the_dead_letters_and_left_there(
    aws: Settings, jobs: SqsJobQueue
) -> None:
    # GIVEN a job that failed its every delivery: SQS moves it to the dead letters
    jobs.send(DERIVE)
    for _ in range(MAX_RECEIVES):
        assert len(jobs.receive(wait_seconds=0)) == 1
    assert jobs.receive(wait_seconds=0) == []

    # WHEN the dead letters are listed, twice
    first = jobs.dead_letters()
    second = jobs.dead_letters()

    # THEN the job is there, as it was sent, and still there after being looked at
    assert [Job.decode(letter.body) for letter in first] == [DERIVE]
    assert [letter.message_id for letter in second] == [first[0].message_id]
    assert first[0].sent_at
    client = sqs_client(aws)
    dead_url = client.get_queue_url(QueueName=aws.jobs_queue_name + DEAD_LETTERS_SUFFIX)
    attributes = client.get_queue_attributes(
        QueueUrl=dead_url["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"


def test_a_message_sent_straight_to_the_dead_letters_is_listed(aws: Settings) -> None:
    client = sqs_client(aws)
    dead_url = client.get_queue_url(QueueName=aws.jobs_queue_name + DEAD_LETTERS_SUFFIX)
    client.send_message(QueueUrl=dead_url["QueueUrl"], MessageBody="not a job")
    client.send_message(QueueUrl=dead_url["QueueUrl"], MessageBody=UPLOAD.encode())

    letters = sqs_queue(aws).dead_letters()

    assert sorted(letter.body for letter in letters) == sorted(["not a job", UPLOAD.encode()])
    assert len(sqs_queue(aws).dead_letters(limit=1)) == 1


def test_a_queue_without_dead_letters_never_marks_a_last_delivery(aws: Settings) -> None:
    sqs_client(aws).create_queue(QueueName="plain-jobs")
    plain = sqs_queue(aws, "plain-jobs")
    plain.send(UPLOAD)

    (received,) = plain.receive(wait_seconds=0)

    assert plain.max_receives() is None
    assert plain.delivery(received) == Delivery(UPLOAD, attempt=1, last_attempt=False)
    assert plain.dead_letters() == []


def test_a_message_that_holds_no_job_is_unreadable(aws: Settings) -> None:
    queue = sqs_queue(aws)
    sqs_client(aws).send_message(QueueUrl=queue.url(), MessageBody='{"kind": "resize"}')

    (received,) = queue.receive(wait_seconds=0)

    with pytest.raises(JobUnreadable):
        queue.delivery(received)
