"""exiftool (Debian's libimage-exiftool-perl) as the judge of whether a file holds a location:
a reader written by nobody here, which finds metadata wherever it hides.

Without exiftool on PATH the tests that need it are skipped with the reason; with
``REQUIRE_EXIFTOOL=1`` (``.ci/run`` installs it) they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# exiftool's own location groups (-gps:all, -location:all) also list place names and a few
# tags that say nothing of where (GPSVersionID): a position is a tag named like one.
POSITION = re.compile(r"(?i)GPS(?!VersionID)|Latitude|Longitude|Coordinates")


def exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        reason = "no exiftool on PATH (apt-get install libimage-exiftool-perl)"
        if os.environ.get("REQUIRE_EXIFTOOL") == "1":
            pytest.fail(f"REQUIRE_EXIFTOOL=1 but {reason}")
        pytest.skip(reason)
    return found


def locations(data: bytes) -> list[str]:
    """Every position exiftool reads in ``data`` as ``group:tag=value``, the embedded video of
    a JPEG's trailer (a Motion Photo's) included: empty when there is none."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file"
        path.write_bytes(data)
        found = [
            f"{tag}={value}"
            for tag, value in _tags(path).items()
            if tag != "SourceFile" and POSITION.search(tag.rpartition(":")[2])
        ]
        video = _run("-b", "-ee", "-EmbeddedVideo", str(path))
        if video:
            found += [f"EmbeddedVideo/{tag}" for tag in locations(video)]
    return found


def written(data: bytes, *assignments: str) -> bytes:
    """``data`` with tags written by exiftool (``-XMP-exif:GPSLatitude=48.8582``...)."""
    done = subprocess.run(
        [exiftool(), "-q", *(f"-{tag}" for tag in assignments), "-o", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _tags(path: Path) -> dict[str, object]:
    report = _run("-j", "-a", "-G1", "-ee", "-gps:all", "-xmp-exif:all", "-location:all", str(path))
    tags: dict[str, object] = json.loads(report)[0]
    return tags


def _run(*arguments: str) -> bytes:
    done = subprocess.run([exiftool(), *arguments], capture_output=True, check=False, timeout=60)
    if done.returncode not in (0, 1):  # 1: no tag matched
        raise AssertionError(f"exiftool failed: {done.stderr.decode(errors='replace')}")
    return done.stdout
