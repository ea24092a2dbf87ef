"""Form parsing whose refusals say what was refused.

werkzeug enforces the form's limits (Flask's ``MAX_FORM_MEMORY_SIZE`` and ``MAX_FORM_PARTS``)
with the same bare 413 it raises for a body over ``MAX_CONTENT_LENGTH``, and by default drops
the whole form when a part's name or filename is not UTF-8: the client is then told that
required fields are missing. Here a form over its limits is a 413 that names them, and text
that is not UTF-8 is a 400 that says so.
"""

from __future__ import annotations

from typing import IO, Any

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import LimitedStream

from service.entrypoints.api.json_body import JsonRequest


class FormTooLarge(RequestEntityTooLarge):
    def __init__(self, memory_limit: int | None, parts_limit: int | None) -> None:
        # werkzeug's refusal does not say which limit was hit: the message names both.
        super().__init__(
            f"The form is over one of its limits: at most {parts_limit} parts, and at most "
            f"{memory_limit} bytes (the form-memory limit) for a text field or a part's headers"
        )


class FormNotUtf8(BadRequest):
    def __init__(self) -> None:
        super().__init__("The form has a name, filename or field that is not UTF-8")


class ImageFormParser(FormDataParser):
    """werkzeug's form parser, with the refusals above. A form refused half-way closes the
    files it opened for its file parts (werkzeug leaves them to the garbage collector)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "silent": False})
        self._files_opened: list[IO[bytes]] = []
        open_file = self.stream_factory

        def opening(*args: Any, **kwargs: Any) -> IO[bytes]:
            self._files_opened.append(open_file(*args, **kwargs))
            return self._files_opened[-1]

        self.stream_factory = opening

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> tuple[IO[bytes], Any, Any]:
        try:
            return super().parse(stream, mimetype, content_length, options)
        except Exception as error:
            for file in self._files_opened:
                file.close()
            if isinstance(error, UnicodeDecodeError):
                raise FormNotUtf8() from None
            if isinstance(error, ValueError):
                # A malformed form (no boundary, cut short): empty, as werkzeug's default has it.
                return stream, self.cls(), self.cls()
            body_limit = content_length is None and _read_to_its_limit(stream)
            if isinstance(error, RequestEntityTooLarge) and not body_limit:
                raise FormTooLarge(self.max_form_memory_size, self.max_form_parts) from None
            raise  # the body's own limit (a body sent without a length), a disconnection...


def _read_to_its_limit(stream: IO[bytes]) -> bool:
    return isinstance(stream, LimitedStream) and stream.is_exhausted


class ImageRequest(JsonRequest):
    """Flask's request, with the form parser above and the JSON refusals of JsonRequest."""

    form_data_parser_class = ImageFormParser
