"""The curl examples of README.md and docs/api.md, as written, against ``make run``: each one
succeeds, and every file one saves (``-o NAME``) is the image it says.

README.md's examples run whole: its bash blocks and its inline ``curl`` commands, each on an
image of its own uploaded by the README's first block. docs/api.md's examples leave out
the Authorization header but for those that save a file: those run.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from tests.integration.processes import ROOT, LocalRun, started_run_local

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("integration")]

# Any answer of 400 or more fails the example (curl exits 22), its body shown.
PRELUDE = """set -euo pipefail
curl() { command curl --silent --show-error --fail-with-body "$@"; }
"""
FORMATS = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def bash_blocks(document: Path) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", document.read_text(), re.MULTILINE | re.DOTALL)


def inline_commands(document: Path) -> list[str]:
    return re.findall(r"`(curl [^`]*http[^`]*)`", document.read_text())


def saved_files(example: str) -> list[str]:
    return re.findall(r"(?:^|\s)-o\s+(\S+)", example)


def picture(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    with started_run_local(tmp_path_factory.mktemp("readme") / "out.log") as run:
        yield run


@pytest.fixture
def terminal(make_run: LocalRun, tmp_path: Path) -> Path:
    """A folder with the files the examples send: photo.jpg, big.jpg."""
    (tmp_path / "photo.jpg").write_bytes(picture((640, 480)))
    (tmp_path / "big.jpg").write_bytes(picture((1600, 1200)))
    return tmp_path


def run(example: str, make_run: LocalRun, folder: Path) -> str:
    """``example`` in bash, in ``folder``, with make run's printed token as TOKEN."""
    (token,) = re.findall(r"^export TOKEN=(\S+)$", make_run.output, re.MULTILINE)
    base = make_run.url
    done = subprocess.run(
        ["/bin/bash", "-c", PRELUDE + example.replace("http://127.0.0.1:8000", base)],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{example}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def assert_images(example: str, folder: Path) -> None:
    for name in saved_files(example):
        saved = (folder / name).read_bytes()
        try:
            kind = PILImage.open(io.BytesIO(saved)).format
        except OSError:
            pytest.fail(f"{example}\nsaved {name} as {saved[:200]!r}: not an image")
        assert kind == FORMATS[Path(name).suffix], (example, name)


def test_the_readmes_curl_examples_do_and_save_what_they_say(
    make_run: LocalRun, terminal: Path
) -> None:
    upload, *examples = bash_blocks(ROOT / "README.md") + inline_commands(ROOT / "README.md")
    assert '-F "image=@photo.jpg"' in upload
    assert any(saved_files(example) for example in examples)

    for example in examples:
        image_id = json.loads(run(upload, make_run, terminal))["image_id"]
        run(example.replace("{image_id}", image_id), make_run, terminal)
        assert_images(example, terminal)
        if "copy.jpg" in saved_files(example):
            assert (terminal / "copy.jpg").read_bytes() == (terminal / "photo.jpg").read_bytes()


def test_the_api_references_saving_examples_save_images(make_run: LocalRun, terminal: Path) -> None:
    upload = bash_blocks(ROOT / "README.md")[0]
    saving = [
        line
        for block in bash_blocks(ROOT / "docs" / "api.md")
        for line in block.replace("\\\n", " ").splitlines()
        if line.startswith("curl") and saved_files(line)
    ]
    assert len(saving) >= 2  # the original and a thumbnail

    for example in saving:
        image_id = json.loads(run(upload, make_run, terminal))["image_id"]
        run(example.replace("{image_id}", image_id), make_run, terminal)
        assert_images(example, terminal)
