"""An in-memory stand-in for the service and its S3 bucket, behind ``httpx.MockTransport``.

It speaks the parts of the API the client uses (``POST /images``, upload sessions, presigned
POST and part PUTs, listings, ``GET /images/{id}``, its download link and its similar images)
with the service's answers and error shape, records every request, and fails requests on
demand. Similar images are the ones a test sets in ``similar``, not computed.

Upload sessions are processed as the service's worker does it, off the request: ``complete``
answers the session PROCESSING (202, ``Location``, ``Retry-After``); ``GET /uploads/{id}``
answers it PROCESSING ``processing_polls`` times, then READY (published) or, when ``failure``
is set, FAILED with that sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx

API = "http://api.test"
S3 = "http://s3.test"
Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, message: str, **headers: str) -> httpx.Response:
    body = {"code": status, "status": httpx.codes.get_reason_phrase(status), "message": message}
    return httpx.Response(status, json=body, headers=headers)


def form_parts(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body: name -> (file name, bytes), in the order sent."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return parts


@dataclass
class Fault:
    method: str
    path: str
    times: int
    answer: httpx.Response | Exception


@dataclass
class FakeService:
    multipart_threshold: int = 1_000_000
    part_size: int = 1000
    # How many GET /uploads/{id} answer PROCESSING after complete, before the outcome.
    processing_polls: int = 0
    # PROCESSING answers' Retry-After header (None: none).
    retry_after: str | None = "1"
    # Set: a session's processing ends FAILED with this sentence.
    failure: str | None = None
    seen: list[httpx.Request] = field(default_factory=list)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    # GET /images/{id}/similar: image id -> (image id, distance) of those it looks like.
    similar: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    replies: dict[str, httpx.Response] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(
        self, method: str, path: str, answer: httpx.Response | Exception, times: int = 1
    ) -> None:
        """The next ``times`` requests of ``method`` to a URL containing ``path`` get ``answer``."""
        self.faults.append(Fault(method, path, times, answer))

    def requests_to(self, method: str, path: str) -> list[httpx.Request]:
        """Those whose URL contains ``path``."""
        return [r for r in self.seen if r.method == method and path in str(r.url)]

    def requests_at(self, method: str, path: str) -> list[httpx.Request]:
        """Those to exactly this path."""
        return [r for r in self.seen if r.method == method and r.url.path == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        for fault in self.faults:
            if fault.times and fault.method == request.method and fault.path in str(request.url):
                fault.times -= 1
                if isinstance(fault.answer, Exception):
                    raise fault.answer
                return fault.answer
        key = request.headers.get("Idempotency-Key")
        if key and key in self.replies:
            return self.replies[key]
        response = self._route(request)
        if key and response.is_success:
            self.replies[key] = response
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        url, method = str(request.url), request.method
        if url.startswith(S3):
            return self._s3(request)
        path = request.url.path
        if method == "POST" and path == "/images":
            parts = form_parts(request)
            filename, data = parts["image"]
            fields = {name: value.decode() for name, (_, value) in parts.items() if name != "image"}
            image, duplicate = self._publish(data, filename or "", fields)
            if duplicate:
                return httpx.Response(200, json=image | {"duplicate_of": image["image_id"]})
            return httpx.Response(201, json=image, headers={"ETag": '"1"'})
        if method == "GET" and path == "/images":
            items = sorted(self.images.values(), key=lambda i: i["image_id"], reverse=True)
            return httpx.Response(200, json={"items": items, "next_cursor": None})
        if method == "POST" and path == "/images/batch":
            return self._batch(json.loads(request.content))
        near = re.fullmatch(r"/images/(\w+)/similar", path)
        if method == "GET" and near is not None:
            return self._similar(near.group(1))
        one = re.fullmatch(r"/images/(\w+)(/download)?", path)
        if method == "GET" and one is not None:
            return self._image(one.group(1), download=bool(one.group(2)))
        if method == "POST" and path == "/uploads":
            return self._open(json.loads(request.content))
        found = re.fullmatch(r"/uploads/(\w+)(/parts|/complete)?", path)
        if found is None or found.group(1) not in self.sessions:
            return error(404, f"no route or upload {path}")
        session = self.sessions[found.group(1)]
        if found.group(2) == "/parts":
            numbers = json.loads(request.content)["part_numbers"]
            return httpx.Response(200, json={"parts": self._signed(session, numbers)})
        if found.group(2) == "/complete":
            return self._complete(session, json.loads(request.content)["parts"])
        if session["status"] == "PROCESSING":
            if session["polls_left"] > 0:
                session["polls_left"] -= 1
            else:
                self._process(session)
        return self._session_answer(session, 200)

    def _session_answer(self, session: dict[str, Any], status: int) -> httpx.Response:
        held = [
            {"part_number": n, "etag": f'"{hashlib.md5(b).hexdigest()}"', "size": len(b)}  # noqa: S324
            for n, b in sorted(session["parts"].items())
        ]
        headers: dict[str, str] = {}
        if session["status"] == "PROCESSING":
            headers["Location"] = f"/uploads/{session['upload_id']}"
            if self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
        return httpx.Response(
            status,
            json={
                "upload_id": session["upload_id"],
                "status": session["status"],
                "expires_at": "2026-11-27T11:00:00+00:00",
                "size": session["size"],
                "content_type": session["content_type"],
                "part_size": session["part_size"],
                "part_count": session["part_count"],
                "parts": held if session["status"] == "OPEN" else [],
                "missing_parts": [],
                "image_id": session.get("image_id"),
                "duplicate": session.get("duplicate", False),
                "failure": session.get("failure"),
            },
            headers=headers,
        )

    def _image(self, image_id: str, *, download: bool) -> httpx.Response:
        if image_id not in self.images:
            return error(404, f"no image {image_id}")
        if not download:
            return httpx.Response(200, json=self.images[image_id], headers={"ETag": '"1"'})
        link = f"{S3}/originals/{image_id}?X-Amz-Signature=secret"
        return httpx.Response(200, json={"download_url": link, "expires_in": 900})

    def _similar(self, image_id: str) -> httpx.Response:
        if image_id not in self.images:
            return error(404, f"no image {image_id}")
        near = [(i, d) for i, d in self.similar.get(image_id, []) if i in self.images]
        items = [{"distance": d, "image": self.images[i]} for i, d in near]
        return httpx.Response(200, json={"items": items})

    def _batch(self, body: dict[str, Any]) -> httpx.Response:
        results = []
        for image_id in body["ids"]:
            image = self.images.get(image_id)
            if image is None:
                results.append({"image_id": image_id, "result": "not_found", "message": "gone"})
                continue
            if body["action"] == "delete":
                del self.images[image_id]
            elif body["action"] == "add_tags":
                image["tags"] = list(dict.fromkeys(image["tags"] + body["tags"]))
            else:
                image["tags"] = [t for t in image["tags"] if t not in body["tags"]]
            results.append({"image_id": image_id, "result": "ok", "message": None})
        return httpx.Response(200, json={"results": results})

    def _publish(
        self, data: bytes, filename: str, fields: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The image of ``data``, and whether it was already one (a duplicate)."""
        digest = hashlib.sha256(data).hexdigest()
        for image in self.images.values():
            if image["sha256"] == digest:
                return image, True
        image_id = f"01M8{len(self.images):022d}"
        tags = fields.get("tags", [])
        image = {
            "image_id": image_id,
            "user_id": fields.get("user_id", "user123"),
            "description": fields.get("description", ""),
            "tags": json.loads(tags) if isinstance(tags, str) else tags,
            "metadata": {},
            "content_type": "image/png",
            "size_bytes": len(data),
            "width": 1,
            "height": 1,
            "sha256": digest,
            "original_filename": filename,
            "status": "READY",
            "created_at": "2026-11-27T10:00:00+00:00",
            "updated_at": "2026-11-27T10:00:00+00:00",
            "location": None,
        }
        self.images[image_id] = image
        self.objects[f"/originals/{image_id}"] = data
        return image, False

    def _open(self, body: dict[str, Any]) -> httpx.Response:
        upload_id = f"UP{len(self.sessions):024d}"
        size = body["size"]
        part_count = -(-size // self.part_size)
        session = body | {"upload_id": upload_id, "status": "OPEN", "parts": {}}
        session |= {"part_size": None, "part_count": 0}
        self.sessions[upload_id] = session
        ticket: dict[str, Any] = {"upload_id": upload_id, "expires_at": "2026-11-27T11:00:00Z"}
        if size <= self.multipart_threshold:
            fields = {"key": f"incoming/{upload_id}", "Content-Type": body["content_type"]}
            return httpx.Response(
                201, json=ticket | {"method": "POST", "url": f"{S3}/bucket", "fields": fields}
            )
        session |= {"part_size": self.part_size, "part_count": part_count}
        parts = self._signed(session, range(1, part_count + 1))
        return httpx.Response(
            201, json=ticket | {"method": "PUT", "part_size": self.part_size, "parts": parts}
        )

    def _signed(self, session: dict[str, Any], numbers: Any) -> list[dict[str, Any]]:
        """Each part's URL, signed for its exact size as the service signs it: part_size, the
        rest for the last part."""
        upload_id, part_size, size = session["upload_id"], session["part_size"], session["size"]
        lengths = {n: min(part_size, size - (n - 1) * part_size) for n in numbers}
        return [
            {"part_number": n, "url": f"{S3}/part/{upload_id}/{n}?length={length}"}
            for n, length in lengths.items()
        ]

    def _s3(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            parts = form_parts(request)
            if list(parts)[-1] != "file":
                return httpx.Response(400, text="<Error>file must be last</Error>")
            self.objects[parts["key"][1].decode()] = parts["file"][1]
            return httpx.Response(204)
        if request.method == "PUT":
            _, _, upload_id, number = request.url.path.split("/")
            signed = int(request.url.params["length"])
            sent = request.headers.get("Content-Length")
            if sent != str(signed) or len(request.content) != signed:
                # S3 refuses a part whose Content-Length is not the one signed into its URL.
                return httpx.Response(403, text="<Error>SignatureDoesNotMatch</Error>")
            self.sessions[upload_id]["parts"][int(number)] = request.content
            etag = f'"{hashlib.md5(request.content).hexdigest()}"'  # noqa: S324 - S3's ETag
            return httpx.Response(200, headers={"ETag": etag})
        image = self.images.get(request.url.path.rpartition("/")[2], {})
        disposition = f'attachment; filename="{image.get("original_filename", "")}"'
        return httpx.Response(
            200,
            content=self.objects.get(request.url.path, b""),
            headers={"Content-Disposition": disposition},
        )

    def _complete(self, session: dict[str, Any], parts: list[dict[str, Any]]) -> httpx.Response:
        """What can be told at once is checked; the rest is the worker's (``_process``)."""
        if session["status"] in ("READY", "FAILED"):
            return self._session_answer(session, 200)
        if session["status"] == "OPEN":
            if session["part_count"]:
                given = {p["part_number"] for p in parts}
                if given != set(range(1, session["part_count"] + 1)):
                    return error(422, f"ETags missing for parts {sorted(given)}")
            elif f"incoming/{session['upload_id']}" not in self.objects:
                return error(409, "Nothing has been uploaded yet: send the file, then complete")
            session |= {"status": "PROCESSING", "polls_left": self.processing_polls}
        return self._session_answer(session, 202)

    def _process(self, session: dict[str, Any]) -> None:
        """The worker's job: READY with the published image, or FAILED with a sentence."""
        if session["part_count"]:
            data = b"".join(session["parts"][n] for n in sorted(session["parts"]))
        else:
            data = self.objects.get(f"incoming/{session['upload_id']}", b"")
        failure = self.failure
        if failure is None and len(data) != session["size"]:
            failure = f"{len(data)} bytes arrived; the session declared {session['size']}"
        if failure is not None:
            session |= {"status": "FAILED", "failure": failure}
            return
        image, duplicate = self._publish(data, session["filename"], session)
        session |= {"status": "READY", "image_id": image["image_id"], "duplicate": duplicate}
