"""POST /api/v2/logs: Datadog's intake contract, ingest keys, limits, and the official client."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from backline.logs.services import get_store, ingest_key_create
from backline.logs.tasks import flush_spool

URL = "/api/v2/logs"


@pytest.fixture
def key(db: Any, var_dir: Path) -> str:
    return ingest_key_create(actor=None, name="shipper")[1]


def _post(body: bytes, *, key: str | None, encoding: str = "") -> Any:
    headers: dict[str, str] = {}
    if key is not None:
        headers["HTTP_DD_API_KEY"] = key
    if encoding:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    return Client().post(URL, body, content_type="application/json", **headers)


def _logs(count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "message": f"RX139 refill failed {i}",
            "ddsource": "ruby",
            "ddtags": "env:production,version:abc123",
            "hostname": "web-1",
            "service": "vets-api",
            "status": "error",
            "user_uuid": "u-1",
            "http": {"status_code": 502},
        }
        for i in range(count)
    ]


def test_plain_gzip_and_deflate_bodies_are_accepted_and_loaded(key: str) -> None:
    raw = json.dumps(_logs()).encode()
    for body, encoding in (
        (raw, ""),
        (gzip.compress(raw), "gzip"),
        (zlib.compress(raw), "deflate"),
    ):
        response = _post(body, key=key, encoding=encoding)
        assert response.status_code == 202, response.content
        assert response.json() == {}
    assert flush_spool() == 6
    with get_store().read() as cursor:
        rows = cursor.execute(
            "SELECT host, status_code, user_id, json_extract_string(attrs, '$.ddsource') FROM events"
        ).fetchall()
    assert set(rows) == {("web-1", 502, "u-1", "ruby")}


def test_one_object_and_the_query_parameter_key_work(key: str) -> None:
    response = Client().post(
        f"{URL}?dd-api-key={key}", json.dumps(_logs(1)[0]), content_type="application/json"
    )
    assert response.status_code == 202
    assert flush_spool() == 1


@pytest.mark.parametrize(
    ("sent", "status", "words"),
    [
        (None, 403, "missing API key"),
        ("bli_wrong", 403, "not a valid"),
    ],
)
def test_keys_are_checked(key: str, sent: str | None, status: int, words: str) -> None:
    response = _post(json.dumps(_logs()).encode(), key=sent)
    assert response.status_code == status
    assert words in response.json()["message"]


def test_a_revoked_key_is_refused(key: str) -> None:
    from backline.logs.services import ingest_key_revoke

    ingest_key_revoke(actor=None, name="shipper")
    assert _post(json.dumps(_logs()).encode(), key=key).status_code == 403


def test_limits_and_bad_bodies_answer_with_the_problem(key: str, var_dir: Path) -> None:
    too_many = _post(json.dumps(_logs(1001)).encode(), key=key)
    assert too_many.status_code == 413 and "at most 1000" in too_many.json()["message"]

    big_entry = [{"message": "x" * (1024 * 1024 + 10)}]
    entry = _post(json.dumps(big_entry).encode(), key=key)
    assert entry.status_code == 413 and "entry 0" in entry.json()["message"]

    # 6 MB of JSON compresses to almost nothing: the uncompressed size is what counts.
    bomb = gzip.compress(json.dumps([{"message": "y" * 1000}] * 6000).encode())
    payload = _post(bomb, key=key, encoding="gzip")
    assert payload.status_code == 413 and "uncompressed" in payload.json()["message"]

    assert _post(b"{nope", key=key).status_code == 400
    assert "entry 1 is not a JSON object" in _post(b'[{"a": 1}, 2]', key=key).json()["message"]
    assert _post(b"garbage", key=key, encoding="gzip").status_code == 400
    assert not list((var_dir / "logs-spool").glob("*.jsonl"))  # nothing half-accepted


def test_get_is_not_allowed(key: str) -> None:
    assert Client().get(URL, HTTP_DD_API_KEY=key).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_official_datadog_client_can_send_logs(live_server: Any, var_dir: Path) -> None:
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.logs_api import LogsApi
    from datadog_api_client.v2.model.content_encoding import ContentEncoding
    from datadog_api_client.v2.model.http_log import HTTPLog
    from datadog_api_client.v2.model.http_log_item import HTTPLogItem

    secret = ingest_key_create(actor=None, name="client")[1]
    configuration = Configuration(host=live_server.url)
    configuration.api_key["apiKeyAuth"] = secret
    body = HTTPLog(
        [
            HTTPLogItem(
                ddsource="nginx",
                ddtags="env:staging,version:5.1",
                hostname="i-012345678",
                message="2019-11-19T14:37:58,995 INFO [process.name][20081] Hello World",
                service="payment",
                status="info",
                user_uuid="u-42",
            )
        ]
    )
    with ApiClient(configuration) as client:
        api = LogsApi(client)
        api.submit_log(body=body)
        api.submit_log(body=body, content_encoding=ContentEncoding.GZIP)
        api.submit_log(body=body, content_encoding=ContentEncoding.DEFLATE)
    assert flush_spool() == 3
    with get_store().read() as cursor:
        rows = cursor.execute("SELECT service, status, message, user_id FROM events").fetchall()
    assert rows[0] == (
        "payment",
        "info",
        "2019-11-19T14:37:58,995 INFO [process.name][20081] Hello World",
        "u-42",
    )
