"""The jobs the worker runs, as they travel on the queue. Plain data: no I/O.

A job names what to work on, never the work's inputs: the worker reads the session or image
when it runs, so a job delivered twice, or late, finds the state it must act on (or that there
is nothing left to do).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class JobKind(StrEnum):
    # An upload session's bytes: check, scrub, publish (the session is PROCESSING).
    UPLOAD = "upload"
    # A published image's smallest rendition and placeholder, made after POST /images.
    DERIVE = "derive"


class Job(msgspec.Struct, frozen=True):
    kind: JobKind
    subject: str  # the upload id (UPLOAD) or the image id (DERIVE)

    def encode(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def decode(cls, text: str) -> Job:
        """The job in ``text``; JobUnreadable when it is not one."""
        try:
            return msgspec.json.decode(text, type=cls)
        except msgspec.DecodeError as error:
            raise JobUnreadable(str(error)) from error


class JobUnreadable(ValueError):
    """A message on the queue that is not a job: nothing can ever run it."""


class Delivery(msgspec.Struct, frozen=True):
    """A job as the queue handed it over: ``attempt`` counts its deliveries (1: the first), and
    ``last_attempt`` is set when the queue moves it to the dead letters if this one fails."""

    job: Job
    attempt: int
    last_attempt: bool
