"""How every item key of the table is spelled, and parsed back. No other module spells one.

Item layout (one table, generic ``pk``/``sk`` keys; the ``sweep`` index has ``sweep_pk``/
``sweep_sk``):

=========================  =======================  ==========================================
pk                         sk                       what
=========================  =======================  ==========================================
``IMG#<id>``               ``META``                 the image's metadata and status
``U#<user>``               ``<id>``                 listing entry: a user's images
``C#<content type>``       ``<id>``                 listing entry: a content type
``T#<tag>``                ``<id>``                 listing entry: a tag
``TC#<tag>#<type>``        ``<id>``                 listing entry: a tag with a content type
``UT#<user>#<tag>``        ``<id>``                 listing entry: a user's images with a tag
``UC#<user>#<type>``       ``<id>``                 listing entry: a user's images of a type
``A#<yyyy-mm-dd>``         ``<id>``                 listing entry: all images, by day bucket
``DAYS``                   ``<yyyy-mm-dd>``         the day buckets that hold images
``UP#<upload id>``         ``META``                 an upload session (``session_repository.py``)
``K#<yyyy-mm>``            ``<taken>#<id>``         capture-time entry: all images, by month
``UK#<user>``              ``<taken>#<id>``         capture-time entry: a user's images
``SHA#<user>#<sha256>``    ``CLAIM``                a user's bytes: the READY image that holds them
``IK#<user>#<key>``        ``IDEM``                 a request's ``Idempotency-Key`` and its answer
``P#<user>#<band>``        ``<id>``                 near-duplicates: a user's images by a band
=========================  =======================  ==========================================

Every listing entry, capture-time entries included, carries the listing projection: the whole
image as the API shows it (the metadata item's attributes, under the entry's own key), so a
page is one Query and no BatchGetItem. An image has ``4 + 3 x tags`` listing entries, plus 2
capture-time entries when it records a capture time (67 items with the metadata at 20 tags).

Capture-time entries (``<taken>`` is the EXIF capture time in UTC, ``YYYY-MM-DDTHH:MM:SSZ``)
exist only for READY images that record one; they are written and removed in the same
transactions as the listing entries.

Sparse ``sweep`` index, only on items that are not READY: ``sweep_pk`` is ``SWEEP#<shard>``
(crc32 of the id over ``SWEEP_SHARDS``, so a burst of uploads makes no hot key) and
``sweep_sk`` is ``D#<id>`` for a DELETING image, or ``X#<id>`` for the
tombstone the sweeper leaves on the id of an upload that never published (so that it can never
publish later), forgotten once older than any request can live. An upload session that is not
DONE is in it too, with ``sweep_sk`` ``S#<expires at>#<upload id>`` (UTC,
``%Y-%m-%dT%H:%M:%SZ``, so that expired sessions are one ``BETWEEN``).

Image ids are ULIDs, so sorting by ``sk`` is sorting by creation time and a date range is a
``BETWEEN`` on ``sk``. Listing entries exist only while the image is READY (written in the
same transaction that flips the status), so listings never see a half-made image. User ids and
tags cannot contain ``#`` (see ``service.domain.rules``), so a composite key parses back
unambiguously.

Near-duplicates (``service.domain.similarity``): an image's 64-bit perceptual hash is cut into
4 bands of 16 bits, ``<place>-<4 hex digits>``, and the image has one ``P#`` item per band,
which holds its hash (and nothing else). Two hashes within distance 3 share a band, so the
images near a hash are among the items of its 4 band partitions: 4 Queries, each of one
partition of one user, whatever the table holds. The band items are written with the hash, by
the worker, in the transaction that records the smallest rendition, and deleted in the one that
hides the image.

A claim (``SHA#``) is written in the transaction that publishes an image, on the condition that
there is none, and deleted in the one that hides it: with ``DEDUPE=per-user`` a user's same bytes
make one image, however many uploads of them race.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime

IMAGE = "IMG#"
META = "META"
USER = "U#"
CONTENT_TYPE = "C#"
TAG = "T#"
TAG_CONTENT_TYPE = "TC#"
USER_TAG = "UT#"
USER_CONTENT_TYPE = "UC#"
DAY = "A#"
DAYS = "DAYS"
SWEEP = "SWEEP#"
SWEEP_DELETING = "D#"
SWEEP_TOMBSTONE = "X#"
SWEEP_SESSION = "S#"
SWEEP_SHARDS = 4
UPLOAD = "UP#"
TAKEN_MONTH = "K#"
USER_TAKEN = "UK#"
TAKEN_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CLAIM_PREFIX = "SHA#"
CLAIM = "CLAIM"
IDEMPOTENCY_PREFIX = "IK#"
IDEMPOTENCY = "IDEM"
SIMILAR = "P#"

# Every spelling above, for the test that keeps them out of every other module.
SPELLINGS = (
    IMAGE,
    META,
    USER,
    CONTENT_TYPE,
    TAG,
    TAG_CONTENT_TYPE,
    USER_TAG,
    USER_CONTENT_TYPE,
    DAY,
    DAYS,
    SWEEP,
    SWEEP_DELETING,
    SWEEP_TOMBSTONE,
    SWEEP_SESSION,
    UPLOAD,
    TAKEN_MONTH,
    USER_TAKEN,
    CLAIM_PREFIX,
    CLAIM,
    IDEMPOTENCY_PREFIX,
    IDEMPOTENCY,
    SIMILAR,
)


def similar_partition(user: str, band: str) -> str:
    """A user's images of one band of their perceptual hash (``similarity.bands``)."""
    return f"{SIMILAR}{user}#{band}"


def image_partition(image_id: str) -> str:
    return f"{IMAGE}{image_id}"


def listing_partition(
    *, user: str | None = None, tag: str | None = None, content_type: str | None = None
) -> str | None:
    """The listing partition of one filter combination; None for "all images", which is read
    from the per-day partitions instead. A tag takes precedence over a content type, except
    for all users: a tag with a type has a partition of its own (a user's has none)."""
    if tag is not None:
        if user:
            return f"{USER_TAG}{user}#{tag}"
        return f"{TAG_CONTENT_TYPE}{tag}#{content_type}" if content_type else f"{TAG}{tag}"
    if content_type is not None:
        return (
            f"{USER_CONTENT_TYPE}{user}#{content_type}" if user else f"{CONTENT_TYPE}{content_type}"
        )
    return f"{USER}{user}" if user else None


def day_partition(day: str) -> str:
    return f"{DAY}{day}"


def entry_partitions(user: str, content_type: str, day: str, tags: Iterable[str]) -> set[str]:
    """Every listing partition an image with these attributes appears in while READY."""
    partitions = {
        listing_partition(user=user),
        listing_partition(content_type=content_type),
        listing_partition(user=user, content_type=content_type),
        day_partition(day),
    }
    for tag in tags:
        partitions |= {
            listing_partition(tag=tag),
            listing_partition(tag=tag, content_type=content_type),
            listing_partition(user=user, tag=tag),
        }
    return {partition for partition in partitions if partition is not None}


def taken_partitions(user: str, taken_at: datetime) -> set[str]:
    """The capture-time partitions of an image taken at ``taken_at`` (UTC)."""
    return {user_taken_partition(user), taken_month_partition(taken_at.strftime("%Y-%m"))}


def user_taken_partition(user: str) -> str:
    return f"{USER_TAKEN}{user}"


def taken_month_partition(month: str) -> str:
    return f"{TAKEN_MONTH}{month}"


def taken_sort_key(taken_at: datetime, image_id: str) -> str:
    return f"{taken_at.strftime(TAKEN_FORMAT)}#{image_id}"


def taken_range(start: datetime | None, end: datetime | None) -> tuple[str, str]:
    """``BETWEEN`` bounds of the capture-time sort keys within ``[start, end]``."""
    low = start.strftime(TAKEN_FORMAT) if start else "0"
    high = f"{end.strftime(TAKEN_FORMAT)}#~" if end else "~"
    return low, high


def sweep_partition(shard: int) -> str:
    return f"{SWEEP}{shard}"


def sweep_shard(image_id: str) -> int:
    return zlib.crc32(image_id.encode()) % SWEEP_SHARDS


def deleting_sort_key(image_id: str) -> str:
    return f"{SWEEP_DELETING}{image_id}"


def tombstone_sort_key(image_id: str) -> str:
    return f"{SWEEP_TOMBSTONE}{image_id}"


def tombstone_range(newest_id: str) -> tuple[str, str]:
    """``BETWEEN`` bounds of the sweep sort keys of tombstones on ids up to ``newest_id``."""
    return SWEEP_TOMBSTONE, f"{SWEEP_TOMBSTONE}{newest_id}"


def image_id_of_sweep_key(sort_key: str) -> str:
    for prefix in (SWEEP_DELETING, SWEEP_TOMBSTONE):
        sort_key = sort_key.removeprefix(prefix)
    return sort_key


def upload_partition(upload_id: str) -> str:
    return f"{UPLOAD}{upload_id}"


def session_sweep_key(expires_at: str, upload_id: str) -> str:
    return f"{SWEEP_SESSION}{expires_at}#{upload_id}"


def expired_sessions_range(before: str) -> tuple[str, str]:
    """``BETWEEN`` bounds of the sweep keys of sessions that expired before ``before``."""
    return SWEEP_SESSION, f"{SWEEP_SESSION}{before}"


def upload_id_of_session_sweep_key(sort_key: str) -> str:
    return sort_key.rsplit("#", 1)[-1]


def claim_partition(user: str, sha256: str) -> str:
    return f"{CLAIM_PREFIX}{user}#{sha256}"


def idempotency_partition(user: str, key: str) -> str:
    """``user`` has no ``#``; ``key`` comes last, so it may."""
    return f"{IDEMPOTENCY_PREFIX}{user}#{key}"
