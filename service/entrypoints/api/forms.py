"""multipart/form-data parsing whose refusals say which limit or which bytes were the problem.

werkzeug raises the same bare 413 for three limits (the body size, a text field over the
form-memory cap, too many parts) and, by default, drops the whole form when a part's header
is not UTF-8 - the client is then told that required fields are missing. Here each limit
has its own 413 message and a non-UTF-8 name or filename is a 400 that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask import Request
from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)


class TooManyFormParts(RequestEntityTooLarge):
    def __init__(self, limit: int | None) -> None:
        super().__init__(f"The form has more than {limit} parts")


class FormFieldTooLarge(RequestEntityTooLarge):
    def __init__(self, limit: int | None, what: str = "A text field of the form") -> None:
        super().__init__(f"{what} is larger than the form-memory limit of {limit} bytes")


class PartHeaderNotUtf8(BadRequest):
    def __init__(self) -> None:
        super().__init__("A part of the form has a name or filename that is not UTF-8")


class _Decoder(MultipartDecoder):
    def receive_data(self, data: bytes | None) -> None:
        try:
            super().receive_data(data)
        except RequestEntityTooLarge:
            # Its buffer only grows past the cap on a part's headers (or text) without an end.
            raise FormFieldTooLarge(self.max_form_memory_size, "A part's headers") from None

    def next_event(self) -> Event:
        try:
            return super().next_event()
        except RequestEntityTooLarge:
            raise TooManyFormParts(self.max_parts) from None

    def _parse_headers(self, data: bytes | bytearray) -> Headers:
        try:
            return super()._parse_headers(data)
        except UnicodeDecodeError:
            raise PartHeaderNotUtf8() from None


class _MultiPartParser(MultiPartParser):
    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        # werkzeug 3.1's loop (MultiPartParser.parse), with the decoder above and its own
        # field-size check raising FormFieldTooLarge.
        parser = _Decoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        text: list[bytes] = []
        container: IO[bytes] | None = None
        field_size = 0
        for data in _chunks(stream, self.buffer_size):
            parser.receive_data(data)
            event = parser.next_event()
            while not isinstance(event, Epilogue | NeedData):
                if isinstance(event, Field):
                    part, text, field_size = event, [], 0
                elif isinstance(event, File):
                    part, container = event, self.start_file_streaming(event, content_length)
                elif isinstance(event, Data) and isinstance(part, Field):
                    field_size += len(event.data)
                    limit = self.max_form_memory_size
                    if limit is not None and field_size > limit:
                        raise FormFieldTooLarge(limit)
                    text.append(event.data)
                    if not event.more_data:
                        charset = self.get_part_charset(part.headers)
                        fields.append((part.name, b"".join(text).decode(charset, "replace")))
                elif isinstance(event, Data) and isinstance(part, File) and container:
                    container.write(event.data)
                    if not event.more_data:
                        container.seek(0)
                        storage = FileStorage(
                            container, part.filename, part.name, headers=part.headers
                        )
                        files.append((part.name, storage))
                event = parser.next_event()
        return self.cls(fields), self.cls(files)


def _chunks(stream: IO[bytes], size: int) -> Iterator[bytes | None]:
    while data := stream.read(size):
        yield data
    yield None


class _FormDataParser(FormDataParser):
    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        parser = _MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class ImageRequest(Request):
    """Flask's request, with the form parser above."""

    form_data_parser_class = _FormDataParser
