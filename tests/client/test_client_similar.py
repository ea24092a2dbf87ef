"""``Client.similar`` and ``mpycloud similar`` against the fake service, whose similar images
are the table a test sets (``FakeService.similar``)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

import mpycloud.cli.browse
from mpycloud import Client, Image, NotFound, SimilarImage
from mpycloud.cli import main
from tests.client.fake_service import API, FakeService
from tests.client.files import png_file
from tests.client.tokens import fake_jwt


def three_images(fake: FakeService, client: Client, folder: Path) -> list[str]:
    """An original, a copy at distance 1 and another at distance 3, as the fake answers."""
    for n, name in enumerate(("original.png", "copy.png", "smaller.png")):
        client.upload(png_file(folder, name, 500 + n), tags=["lake"])
    ids = list(fake.images)
    fake.similar[ids[0]] = [(ids[1], 1), (ids[2], 3)]
    return ids


class TestClient:
    def test_similar_answers_each_image_with_its_distance_nearest_first(
        self, fake: FakeService, client: Client, tmp_path: Path
    ) -> None:
        original, copy, smaller = three_images(fake, client, tmp_path)

        found = client.similar(original)

        assert len(fake.requests_at("GET", f"/images/{original}/similar")) == 1
        assert [(near.image.image_id, near.distance) for near in found] == [
            (copy, 1),
            (smaller, 3),
        ]
        assert all(isinstance(near, SimilarImage) for near in found)
        assert isinstance(found[0].image, Image)
        assert found[0].image.original_filename == "copy.png"
        assert found[0].image.tags == ["lake"]
        assert found[0].image.raw == fake.images[copy]

    def test_an_image_like_no_other_has_none(
        self, fake: FakeService, client: Client, tmp_path: Path
    ) -> None:
        _, copy, _ = three_images(fake, client, tmp_path)

        assert client.similar(copy) == []

    def test_an_unknown_image_is_not_found(self, client: Client) -> None:
        with pytest.raises(NotFound):
            client.similar("01M80000000000000000000000")


def cells(line: str) -> list[str]:
    """A row of a table as rich draws it, its cells' text."""
    return [cell.strip() for cell in re.split(r"[│┃]", line)]


@pytest.fixture
def signed_in(cli: FakeService, capsys: pytest.CaptureFixture[str]) -> FakeService:
    main(["login", "--url", API, "--token", fake_jwt("alice")])
    capsys.readouterr()
    return cli


@pytest.fixture
def shown(signed_in: FakeService, tmp_path: Path) -> list[str]:
    """Three images on the fake (three_images), uploaded by the command."""
    for n, name in enumerate(("original.png", "copy.png", "smaller.png")):
        assert main(["upload", str(png_file(tmp_path, name, 500 + n)), "--json"]) == 0
    ids = list(signed_in.images)
    signed_in.similar[ids[0]] = [(ids[1], 1), (ids[2], 3)]
    return ids


class TestCommand:
    def test_json_prints_the_apis_items(
        self, signed_in: FakeService, shown: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        original, copy, smaller = shown
        capsys.readouterr()

        assert main(["similar", original, "--json"]) == 0

        printed = json.loads(capsys.readouterr().out)
        assert printed == {
            "items": [
                {"distance": 1, "image": signed_in.images[copy]},
                {"distance": 3, "image": signed_in.images[smaller]},
            ]
        }

    def test_piped_each_line_is_the_distance_then_the_images_whole_values(
        self, shown: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        original, copy, smaller = shown
        capsys.readouterr()

        assert main(["similar", original]) == 0

        lines = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
        assert [line[:2] for line in lines] == [["1", copy], ["3", smaller]]
        assert lines[0][-1] == "copy.png"
        assert lines[0][4] == "501"  # whole bytes, as `ls` prints them in a pipe

    def test_ids_only_prints_one_id_a_line(
        self, shown: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        original, copy, smaller = shown
        capsys.readouterr()

        assert main(["similar", original, "--ids-only"]) == 0

        assert capsys.readouterr().out.split() == [copy, smaller]

    def test_on_a_terminal_a_table_with_the_distance_first(
        self, shown: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        original, copy, smaller = shown
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=True, width=160, color_system=None)
        monkeypatch.setattr(mpycloud.cli.browse, "out", console)

        assert main(["similar", original]) == 0
        assert main(["similar", copy]) == 0

        table, none = screen.getvalue().split("\nno similar images", 1)
        header, *rows = [cells(line) for line in table.splitlines() if re.search(r"\w", line)]
        assert header[:2] == ["distance", "id"]
        assert [row[:2] for row in rows] == [["1", copy], ["3", smaller]]
        assert rows[0][-1] == "copy.png"
        assert none.startswith(" (or the service has not hashed this one yet)")

    def test_an_unknown_image_is_an_error(
        self, signed_in: FakeService, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["similar", "01M80000000000000000000000"]) == 1

        assert "404" in capsys.readouterr().err
