"""schemathesis against our own OpenAPI document, in every phase and with every check: 0 failures.

The run is what ``schemathesis run`` does (the same engine), over HTTP to the Flask app served
in this process, with moto behind it (schemathesis' in-process WSGI transport fails its own
ignored_auth probes). Against a running server it would be

    schemathesis run http://127.0.0.1:8000/openapi.json --checks all --mode all \\
        --phases examples,coverage,fuzzing,stateful --max-examples 100 --seed 20261127 \\
        -H "Authorization: Bearer $TOKEN"

with this schemathesis.toml (the settings of run() below):

    [[operations]]
    include-name = "POST /images"
    generation.max-examples = 25
    [phases.stateful]
    generation.max-examples = 30
    inference.algorithms = ["location-headers"]

and the three hooks of run(): real images for the upload (random bytes are a 400, rightly), a
fresh Idempotency-Key per request where the generated one is valid, and EXCLUSIONS. Stateful
scenarios follow the Location header of an upload to GET, PATCH and DELETE of the image.

The phases are runs of their own, each a test against a service of its own, so that
pytest-xdist runs them side by side: the fuzzing phase of the operations of each tag of the
document (images; uploads and health), and the other phases (the stateful phase learns its
links from the Location headers of the uploads of the examples and coverage phases).

EXCLUSIONS lists what the document cannot state: each drops only the failures it names,
recognised by the request and the answer, with its reason. Everything else must pass.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
from flask import Flask
from moto.dynamodb.models import DynamoDBBackend
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData, Failure
from schemathesis.engine import events, from_schema
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.transport.serialization import Binary
from werkzeug.serving import make_server

from devtools import emulator
from service.domain.idempotency_keys import HEADER as IDEMPOTENCY_HEADER
from service.domain.idempotency_keys import KEY_PATTERN
from service.domain.rules import MAX_JSON_BODY_BYTES, MAX_METADATA_KEYS, MAX_TAG_LENGTH, TAG_PATTERN
from service.entrypoints.api.auth import BEARER_SCHEME
from service.entrypoints.app import create_app
from tests.support.aws import moto_environment, small_settings
from tests.support.images import encode, jpeg, png
from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer, verifier_for

SEED = 20261127
TOKENS = TokenIssuer()
USER = "user123"
STATEFUL_EXAMPLES = 30  # scenarios of up to 6 calls, each starting from an upload
UPLOAD_EXAMPLES = 25  # an upload decodes an image and writes S3 and DynamoDB: the slow one
MAX_EXAMPLES = 100  # per operation and phase, for every other operation

Case = schemathesis.Case
Response = schemathesis.Response


def _query(case: Case[Any]) -> dict[str, Any]:
    return dict(case.query or {})


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _error(response: Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _invalid_cursor(case: Case[Any], response: Response) -> bool:
    return "cursor" in _query(case) and response.status_code == 400


def _instant(text: Any, *, end_of_day: bool) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if moment.tzinfo is None:  # a date alone
        moment = moment.replace(tzinfo=UTC)
        if end_of_day:
            moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    return moment


def _dates_in_reverse(case: Case[Any], response: Response) -> bool:
    query = _query(case)
    for first, last in (("date_from", "date_to"), ("taken_from", "taken_to")):
        start = _instant(query.get(first), end_of_day=False)
        end = _instant(query.get(last), end_of_day=True)
        if start is not None and end is not None and start > end:
            return response.status_code == 422
    return False


def _out_of_range_instant(case: Case[Any], response: Response) -> bool:
    for name in ("date_from", "date_to"):
        moment = _instant(_query(case).get(name), end_of_day=False)
        if moment is not None:
            try:
                moment.astimezone(UTC)
            except OverflowError:
                return response.status_code == 422
    return False


def _normalises_to_no_tag(tag: Any) -> bool:
    normalised = " ".join(unicodedata.normalize("NFKC", str(tag)).casefold().split())
    return len(normalised) > MAX_TAG_LENGTH or not TAG_PATTERN.fullmatch(normalised)


def _tags_sent(case: Case[Any]) -> list[Any]:
    body = case.body if isinstance(case.body, dict) else {}
    return _values(_query(case).get("tags", [])) + _values(body.get("tags", []))


def _tag_changed_by_normalising(case: Case[Any], response: Response) -> bool:
    bad = any(_normalises_to_no_tag(tag) for tag in _tags_sent(case))
    return bad and response.status_code == 422 and "tags" in json.dumps(_error(response))


def _another_spelling_of_tags(case: Case[Any], response: Response) -> bool:
    return any(
        isinstance(tag, str) and ("," in tag or tag.strip().startswith("["))
        for tag in _tags_sent(case)
    )


def _tags_as_one_form_part(case: Case[Any], response: Response) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    is_upload = (case.operation.method, case.operation.path) == ("post", "/images")
    return is_upload and "tags" in body and not isinstance(body["tags"], list)


def _custom_fields_together(case: Case[Any], response: Response) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    metadata = body.get("metadata")
    if case.operation.path != "/images" or not isinstance(metadata, dict):
        return False
    reserved = {"image", "user_id", "description", "tags", "metadata"}
    extra = set(body) - reserved
    too_many = len(extra) + len(metadata) > MAX_METADATA_KEYS
    return (too_many or bool(extra & set(metadata))) and response.status_code == 422


def _ids_with_other_filters(case: Case[Any], response: Response) -> bool:
    others = set(_query(case)) - {"ids", "limit"}
    return "ids" in _query(case) and bool(others) and response.status_code == 422


CAPTURE_TIME = {"taken_from", "taken_to"}


def _capture_time_with_other_filters(case: Case[Any], response: Response) -> bool:
    query = set(_query(case))
    alone = query & CAPTURE_TIME == CAPTURE_TIME or "user_id" in query
    others = query - CAPTURE_TIME - {"user_id", "limit", "cursor"}
    return (
        bool(query & CAPTURE_TIME) and (bool(others) or not alone) and (response.status_code == 422)
    )


def _key_used_for_another_request(case: Case[Any], response: Response) -> bool:
    return response.status_code == 422 and "Idempotency-Key was used" in str(
        _error(response).get("message")
    )


SESSION_STATE_ERRORS = ("Nothing has been uploaded yet", "single POST", "parts missing")


def _upload_session_state(case: Case[Any], response: Response) -> bool:
    message = str(_error(response).get("message"))
    is_session = case.operation.path.startswith("/uploads/{upload_id}")
    return (
        is_session
        and response.status_code == 422
        and any(text in message for text in SESSION_STATE_ERRORS)
    )


def _declared_size_over_the_limit(case: Case[Any], response: Response) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    size = body.get("size")
    if case.operation.label != "POST /uploads" or not isinstance(size, int):
        return False
    return size > small_settings().max_file_size and response.status_code == 413


def _json_body_over_the_cap(case: Case[Any], response: Response) -> bool:
    # As sent: JSON with every character outside ASCII escaped.
    return response.status_code == 413 and len(json.dumps(case.body)) > MAX_JSON_BODY_BYTES


@dataclass(frozen=True)
class Exclusion:
    reason: str
    failure: type[Failure]
    applies: Callable[[Case[Any], Response], bool]


EXCLUSIONS = {
    "opaque cursor": Exclusion(
        "A cursor is signed by the server: the document gives its alphabet and length, but "
        "any other value of that shape is refused (400), as it must be.",
        RejectedPositiveData,
        _invalid_cursor,
    ),
    "range that ends before it starts": Exclusion(
        "A range that ends before it starts (upload dates or capture times) is refused (422); "
        "JSON Schema cannot relate two parameters.",
        RejectedPositiveData,
        _dates_in_reverse,
    ),
    "instant outside years 1-9999 in UTC": Exclusion(
        "An RFC 3339 date-time such as 0001-01-01T00:00:00+01:00 is before year 1 once in UTC; "
        "it is refused (422), and the date-time format has no bound to say so.",
        RejectedPositiveData,
        _out_of_range_instant,
    ),
    "tag changed by normalising": Exclusion(
        "NFKC and case folding turn a few letters into something a tag may not hold "
        "(U+0140 is l and a middle dot) or make a tag longer (U+00DF is ss); the document says "
        "so in words, a pattern cannot.",
        RejectedPositiveData,
        _tag_changed_by_normalising,
    ),
    "other spellings of tags": Exclusion(
        "A value holding several tags, comma-separated or as a JSON list (the original "
        "design's form), is accepted; the document describes one tag per value, and says so.",
        AcceptedNegativeData,
        _another_spelling_of_tags,
    ),
    "tags as one form part": Exclusion(
        "A multipart form is text: tags given as a string, a number, a boolean or null is one "
        "part, the same as an array of one tag spelled that way (null is the tag 'null').",
        AcceptedNegativeData,
        _tags_as_one_form_part,
    ),
    "custom fields as form fields and in metadata": Exclusion(
        "Extra form fields and metadata keys share one limit and must not repeat a name; "
        "JSON Schema cannot count or compare across the two.",
        RejectedPositiveData,
        _custom_fields_together,
    ),
    "ids alone": Exclusion(
        "GET /images?ids= fetches those images and takes no other filter (422 with one); "
        "JSON Schema cannot relate two parameters.",
        RejectedPositiveData,
        _ids_with_other_filters,
    ),
    "capture-time filters with user_id only": Exclusion(
        "taken_from/taken_to read the capture-time partitions: they combine with user_id only, "
        "and need both ends without it (422 otherwise); the document says so in words.",
        RejectedPositiveData,
        _capture_time_with_other_filters,
    ),
    "Idempotency-Key used for another request": Exclusion(
        "A key already used for a different request is refused (422), as the key's "
        "description says. The coverage phase reuses its example key for different bodies "
        "(the map_headers hook gives the other phases a fresh key per request).",
        RejectedPositiveData,
        _key_used_for_another_request,
    ),
    "JSON body over the cap": Exclusion(
        "A JSON body larger than MAX_JSON_BODY_BYTES is refused (413) before it is read, valid "
        "or not: the document cannot state a body's size in bytes, and schemathesis does not "
        "count 413 as a rejection.",
        AcceptedNegativeData,
        _json_body_over_the_cap,
    ),
    "declared size over MAX_FILE_SIZE": Exclusion(
        "An upload session declaring more bytes than MAX_FILE_SIZE is refused with 413 (the "
        "document's maximum), as tus refuses an Upload-Length over its maximum; schemathesis "
        "does not count 413 as a rejection.",
        AcceptedNegativeData,
        _declared_size_over_the_limit,
    ),
    "upload session state": Exclusion(
        "Completing a session before its bytes arrived, or asking for parts of a single-POST "
        "session, is refused (422): the answer depends on the session, not on the request.",
        RejectedPositiveData,
        _upload_session_state,
    ),
}

IMAGES = (jpeg((8, 6)), png((5, 7)), encode("GIF", (3, 3)), encode("WEBP", (4, 4)))


class RequestCounter:
    """WSGI middleware counting the requests schemathesis makes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.count += 1
        return self.app(environ, start_response)


@contextmanager
def journaled_transactions() -> Iterator[None]:
    """moto backs a table up before a transaction by deep-copying it once per item of the
    transaction: hundreds of uploads, changes and deletes made that quadratic. The embedded
    emulator's transaction (devtools/emulator.py), which journals the items it changes, instead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoDBBackend, "transact_write_items", emulator.transact_write_items)
        yield


@pytest.fixture
def fuzzed_app() -> Iterator[Flask]:
    # Signed in, as deployed: the document requires a bearer token, and run() sends one.
    settings = small_settings(
        s3_bucket_name="fuzz-bucket",
        auth_mode="jwt",
        auth_issuer=ISSUER,
        auth_client_ids=(CLIENT_ID,),
    )
    with moto_environment(settings), journaled_transactions():
        yield create_app(settings, token_verifier=verifier_for(TOKENS))


TAGS = ("images", "uploads", "health")


def run(
    app: Flask, phases: set[str], tags: tuple[str, ...] = TAGS
) -> tuple[list[str], Counter[str], int, Counter[tuple[str, str]]]:
    """The ``phases`` of schemathesis' run on the operations of ``tags``: failures
    (described), failures dropped per exclusion, requests made, and the calls made by phase
    and operation."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # No cache of earlier runs' findings: every run is the same run, and writes nothing.
            "cache": {"enabled": False},
            "auth": {"openapi": {BEARER_SCHEME: {"bearer": TOKENS.token(USER)}}},
            "checks": {"enabled": True},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
            "operations": [
                {"include-name": "POST /images", "generation": {"max-examples": UPLOAD_EXAMPLES}},
                *({"include-tag": tag, "enabled": False} for tag in TAGS if tag not in tags),
            ],
            "phases": {
                "examples": {"enabled": "examples" in phases},
                "coverage": {"enabled": "coverage" in phases},
                "fuzzing": {"enabled": "fuzzing" in phases},
                # Links from the Location header of an upload to the image's operations.
                "stateful": {
                    "enabled": "stateful" in phases,
                    "inference": {"algorithms": ["location-headers"]},
                    "generation": {"max-examples": STATEFUL_EXAMPLES},
                },
            },
        }
    )
    counter = RequestCounter(app.wsgi_app)
    app.wsgi_app = counter  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    dropped: Counter[str] = Counter()

    @schema.hook("map_body")
    def real_images(context: Any, body: Any) -> Any:
        # The upload's file: a real image instead of the random bytes of `format: binary`.
        operation = context.operation
        if operation is None or (operation.method, operation.path) != ("post", "/images"):
            return body
        image = body.get("image") if isinstance(body, dict) else None
        if not isinstance(image, Binary):  # a negative case's image that is not a file
            return body
        return {**body, "image": Binary(IMAGES[len(image.data) % len(IMAGES)])}

    @schema.hook("map_headers")
    def fresh_idempotency_keys(context: Any, headers: Any) -> Any:
        # A client sends a new key with each new request; the generator repeats its values
        # (its example, its simplest string), which would replay or refuse (422) the answers
        # of other requests. Keys the document refuses are kept: they must get their 422.
        key = headers.get(IDEMPOTENCY_HEADER) if isinstance(headers, dict) else None
        if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
            return {**headers, IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        return headers

    @schema.hook("filter_failure")
    def excluded(context: Any, failure: Failure, case: Case[Any], response: Response) -> bool:
        for name, exclusion in EXCLUSIONS.items():
            if isinstance(failure, exclusion.failure) and exclusion.applies(case, response):
                dropped[name] += 1
                return False
        return True

    failures: list[str] = []
    calls: Counter[tuple[str, str]] = Counter()
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                for interaction in event.recorder.interactions.values():
                    # A stateful scenario has no single operation: it is named by its calls.
                    request = interaction.request
                    path = urlsplit(request.uri).path
                    name = (
                        event.label
                        or f"{request.method} {re.sub('/[0-9A-Z]{26}', '/{image_id}', path)}"
                    )
                    calls[str(event.phase), name] += 1
                for case_id, checks in event.recorder.checks.items():
                    for check in checks:
                        if check.failure_info is None:
                            continue
                        failure = check.failure_info.failure
                        answer = event.recorder.interactions.get(case_id)
                        response = answer.response if answer is not None else None
                        got = (
                            f"got {response.status_code}: {response.content[:300]!r}"
                            if response is not None
                            else ""
                        )
                        failures.append(
                            f"{event.phase} {event.label or ''} {check.name}: {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}\n{got}"
                        )
            elif isinstance(event, events.NonFatalError | events.FatalError):
                failures.append(f"error: {event!r}\n{getattr(event, 'info', None)}")
    finally:
        server.shutdown()
        app.wsgi_app = counter.app  # type: ignore[method-assign]
    return failures, dropped, counter.count, calls


def report(requests: int, dropped: Counter[str]) -> None:
    print(f"schemathesis: {requests} requests; failures dropped by exclusion: {dict(dropped)}")


def test_schemathesis_finds_nothing_in_the_examples_coverage_and_stateful_phases(
    fuzzed_app: Flask,
) -> None:
    failures, dropped, requests, calls = run(fuzzed_app, {"examples", "coverage", "stateful"})

    report(requests, dropped)
    assert failures == [], "\n\n".join(failures)
    assert calls["examples", "POST /images"] > 0
    operations = {operation for phase, operation in calls if phase == "coverage"}
    assert len(operations) == 16  # every documented operation
    assert calls["stateful", "POST /images"] >= STATEFUL_EXAMPLES


@pytest.mark.parametrize(
    ("tags", "operations"),
    [
        (
            ("images",),
            {
                "POST /images": UPLOAD_EXAMPLES,
                "GET /images": MAX_EXAMPLES,
                "GET /images/{image_id}": MAX_EXAMPLES,
                "PATCH /images/{image_id}": MAX_EXAMPLES,
                "DELETE /images/{image_id}": 1,
                "GET /images/{image_id}/download": MAX_EXAMPLES,
                "GET /images/{image_id}/thumbnail": MAX_EXAMPLES,
                "GET /images/{image_id}/similar": MAX_EXAMPLES,
                "POST /images/batch": MAX_EXAMPLES,
            },
        ),
        (
            ("uploads", "health"),
            {
                "POST /uploads": MAX_EXAMPLES,
                "GET /uploads/{upload_id}": MAX_EXAMPLES,
                "DELETE /uploads/{upload_id}": 1,
                "POST /uploads/{upload_id}/parts": MAX_EXAMPLES,
                "POST /uploads/{upload_id}/complete": MAX_EXAMPLES,
                "GET /health": 1,
                "GET /health/ready": 1,
            },
        ),
    ],
    ids=["images", "uploads-and-health"],
)
def test_schemathesis_finds_nothing_in_the_fuzzing_phase(
    fuzzed_app: Flask, tags: tuple[str, ...], operations: dict[str, int]
) -> None:
    failures, dropped, requests, calls = run(fuzzed_app, {"fuzzing"}, tags)

    report(requests, dropped)
    assert failures == [], "\n\n".join(failures)
    # every operation of these tags, each with as many examples as asked for
    fuzzed = {operation: n for (phase, operation), n in calls.items() if phase == "fuzzing"}
    assert set(fuzzed) == set(operations)
    assert all(fuzzed[operation] >= n for operation, n in operations.items()), fuzzed
