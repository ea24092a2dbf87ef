"""How a rewritten upload is cut into the parts of a multipart upload
(service/adapters/s3_upload_store.parts_of): every part but the last of S3's smallest size or
more, long kept ranges copied by S3, and nothing lost, doubled or reordered."""

from __future__ import annotations

import pytest

from service.adapters.s3_upload_store import Part, parts_of
from service.domain.scrub import Kept, Piece, Written

SOURCE = bytes(range(256)) * 4  # 1 KiB
SMALLEST = 100


def assembled(parts: list[Part]) -> bytes:
    return b"".join(
        SOURCE[part.start : part.end]
        if isinstance(part, Kept)
        else b"".join(SOURCE[p.start : p.end] if isinstance(p, Kept) else p.data for p in part)
        for part in parts
    )


def size_of(part: Part) -> int:
    return part.size if isinstance(part, Kept) else sum(p.size for p in part)


@pytest.mark.parametrize(
    "pieces",
    [
        (Written(b"head"), Kept(10, 600), Written(b"mid"), Kept(605, 1021)),
        (Kept(0, 700), Kept(701, 750), Written(b"tail")),
        (Kept(0, 50), Written(b"a"), Kept(60, 80), Written(b"b"), Kept(90, 1024)),
        (Written(b"w" * 250), Kept(0, 30)),
        (Kept(3, 40),),
    ],
)
def test_every_part_but_the_last_is_large_enough_and_the_bytes_are_the_pieces(
    pieces: tuple[Piece, ...],
) -> None:
    parts = parts_of(pieces, minimum=SMALLEST)

    assert all(size_of(part) >= SMALLEST for part in parts[:-1])
    expected = b"".join(SOURCE[p.start : p.end] if isinstance(p, Kept) else p.data for p in pieces)
    assert assembled(parts) == expected


def test_a_long_kept_range_is_a_part_s3_copies_and_only_short_ones_are_sent() -> None:
    parts = parts_of((Written(b"head"), Kept(0, 1000), Written(b"tail")), minimum=SMALLEST)

    assert parts == [(Written(b"head"), Kept(0, 96)), Kept(96, 1000), (Written(b"tail"),)]
