"""What the ``mpycloud`` command prints and writes: downloads under distinct names, readable
metadata, counts in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpycloud.cli import main
from tests.client.fake_service import API, FakeService
from tests.client.files import png_file
from tests.client.tokens import fake_jwt


@pytest.fixture
def signed_in(cli: FakeService, capsys: pytest.CaptureFixture[str]) -> FakeService:
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    capsys.readouterr()
    return cli


def test_download_keeps_every_image_when_file_names_repeat(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three different images, each uploaded from a file called a.jpg
    originals = [png_file(tmp_path / f"day{n}", "a.jpg", 500 + n) for n in range(3)]
    for original in originals:
        main(["upload", str(original), "--json"])
    ids = list(signed_in.images)
    capsys.readouterr()
    folder = tmp_path / "out"

    # WHEN all three are downloaded into one folder, in parallel
    code = main(["download", *ids, "-o", str(folder), "-j", "3", "--no-progress"])

    # THEN none overwrote another: three files, each with its own image's bytes
    printed = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["a-1.jpg", "a-2.jpg", "a.jpg"]
    assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted(
        o.read_bytes() for o in originals
    )
    # AND the command says which image went to which file
    for image_id in ids:
        (line,) = [line for line in printed.splitlines() if image_id in line]
        written = Path(line.split(" -> ")[1])
        assert written.read_bytes() == signed_in.objects[f"/originals/{image_id}"]


def test_a_second_download_into_the_same_folder_overwrites_nothing(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["upload", str(png_file(tmp_path, "b.png", 500)), "--json"])
    (image_id,) = signed_in.images
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "b.png").write_bytes(b"mine")

    assert main(["download", image_id, "-o", str(folder), "--no-progress"]) == 0

    assert (folder / "b.png").read_bytes() == b"mine"
    assert (folder / "b-1.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_get_prints_values_readably_not_as_python(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["upload", str(png_file(tmp_path, "a.png", 500)), "--tags", "holiday", "--json"])
    (image_id,) = signed_in.images
    capsys.readouterr()

    assert main(["get", image_id]) == 0

    printed = capsys.readouterr().out
    assert "holiday" in printed
    assert "['holiday']" not in printed
    assert "None" not in printed
    assert "{}" not in printed  # empty metadata: nothing to show


def test_the_upload_summary_counts_in_words_that_agree_with_the_number(
    signed_in: FakeService, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = png_file(tmp_path, "a.png", 500)

    main(["upload", str(photo)])
    first = capsys.readouterr().out
    main(["upload", str(photo)])
    second = capsys.readouterr().out

    assert "1 file in" in first
    assert "1 files" not in first
    assert "1 duplicate was already on the server" in second
    assert "1 duplicates" not in second
