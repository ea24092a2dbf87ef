"""The command line's parser, and how it runs a command and reports its failures."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from mpycloud.cli import browse, edit, login, upload
from mpycloud.cli.common import common_options, describe, err
from mpycloud.errors import MpycloudError, Unauthorized


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="mpycloud",
        description="Upload, list, tag, download and delete images on an mPyCloud service.",
    )
    main_parser.add_argument("-v", "--verbose", action="store_true", help="log every retry")
    main_parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_options()
    for module in (login, upload, browse, edit):
        module.register(commands, common)
    return main_parser


def _version() -> str:
    try:
        return metadata.version("mpycloud-client")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        code: int = args.run(args)
    except Unauthorized as error:
        err.print(f"not signed in: {error.message}. Run `mpycloud login`.")
        return 1
    except MpycloudError as error:
        err.print(f"error: {describe(error)}")
        return 1
    except BrokenPipeError:
        # The reader went away (``mpycloud ls --json | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code
