"""``POST /api/v2/logs``: the Datadog-compatible HTTP log intake.

Accepts what Datadog's HTTP intake accepts, so any Datadog shipper or the official client can send
logs to Backline: a JSON array of log objects (or one object) with ``message``, ``ddsource``,
``ddtags``, ``hostname``, ``service``, ``status`` and any other attributes; ``Content-Encoding``
gzip or deflate; the key in the ``DD-API-KEY`` header or the ``dd-api-key`` query parameter.
Datadog's limits apply: 5 MB uncompressed per payload, 1,000 entries, 1 MB per entry.

The request never opens the log store: the payload is validated, written to a spool file (write to
a temporary name, then rename, so the loader never sees half a file) and a task loads spool files
in batches under the store's write lock. A request is answered 202 ``{}`` once its file is on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from backline.logs import schema
from backline.logs.services import ingest_key_check, spool_dir

MAX_PAYLOAD_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 1024 * 1024


class IntakeError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "errors": [message]}, status=status)


def _decompress(body: bytes, encoding: str) -> bytes:
    """The uncompressed body, refusing more than the payload limit (no zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        # gzip: wbits 16+15; deflate as sent by clients is zlib-wrapped (15), sometimes raw (-15).
        attempts = [31] if encoding != "deflate" else [15, -15]
        data = b""
        for wbits in attempts:
            decompressor = zlib.decompressobj(wbits)
            try:
                data = decompressor.decompress(body, MAX_PAYLOAD_BYTES + 1)
            except zlib.error:
                if wbits == attempts[-1]:
                    raise IntakeError(400, f"body is not valid {encoding} data") from None
                continue
            break
    else:
        raise IntakeError(
            415, f"Content-Encoding {encoding!r} is not supported: use gzip or deflate"
        )
    if len(data) > MAX_PAYLOAD_BYTES:
        raise IntakeError(413, f"payload is larger than {MAX_PAYLOAD_BYTES} bytes uncompressed")
    return data


def _entries(data: bytes) -> list[dict[str, Any]]:
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntakeError(400, f"body is not valid JSON ({exc})") from None
    entries = payload if isinstance(payload, list) else [payload]
    if len(entries) > MAX_ENTRIES:
        raise IntakeError(413, f"{len(entries)} entries sent; at most {MAX_ENTRIES} per payload")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise IntakeError(400, f"entry {index} is not a JSON object")
    return entries


def _spool(entries: list[dict[str, Any]], received: datetime) -> None:
    stamp = received.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lines: list[bytes] = []
    for index, entry in enumerate(entries):
        if not any(entry.get(path) is not None for path in schema.SOURCE_PATHS["ts"]):
            # Datadog dates an event without a timestamp at its arrival.
            entry = {**entry, "timestamp": stamp}
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
        if len(line) > MAX_ENTRY_BYTES:
            raise IntakeError(413, f"entry {index} is larger than {MAX_ENTRY_BYTES} bytes")
        lines.append(line)
    folder = spool_dir()
    name = f"{received:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.jsonl"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(b"\n".join(lines) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, folder / name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@csrf_exempt
def intake_view(request: HttpRequest) -> HttpResponse:
    """Validate, spool, enqueue the load; 202 ``{}`` or a JSON error naming the problem."""
    if request.method != "POST":
        return _error(405, "use POST")
    key = request.headers.get("DD-API-KEY") or request.GET.get("dd-api-key", "")
    if not key:
        return _error(403, "missing API key: send the DD-API-KEY header")
    if ingest_key_check(key) is None:
        return _error(403, "the API key is not a valid Backline ingest key")
    try:
        # Read the stream, not request.body: Django caps .body at DATA_UPLOAD_MAX_MEMORY_SIZE
        # (2.5 MB), below Datadog's 5 MB. A compressed body is at most as big as its content.
        body = request.read(MAX_PAYLOAD_BYTES + 1)
        if len(body) > MAX_PAYLOAD_BYTES:
            raise IntakeError(413, f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        data = _decompress(body, request.headers.get("Content-Encoding", ""))
        entries = _entries(data)
        _spool(entries, datetime.now(UTC))
    except IntakeError as exc:
        return _error(exc.status, exc.message)
    from backline.logs.tasks import logs_flush_spool

    logs_flush_spool.enqueue()
    return JsonResponse({}, status=202)
