"""A local fake of Alibaba Cloud SMS's SendSms API, built from its documented formats.

What it checks, as the real service does:

- the request is a V3 RPC call: ``x-acs-action: SendSms`` and ``x-acs-version:
  2017-05-25`` headers, the API's parameters in the query string;
- it is signed with the V3 scheme (``Authorization: ACS3-HMAC-SHA256 Credential=…,
  SignedHeaders=…,Signature=…``): canonical request = method, path, sorted
  RFC 3986-encoded query, the signed headers ``name:value`` lines, their names joined
  with ``;`` and ``x-acs-content-sha256``; string to sign = algorithm + SHA-256 of the
  canonical request; signature = hex HMAC-SHA256 with the AccessKey secret. A wrong
  secret or key gets HTTP 400 ``SignatureDoesNotMatch`` / 404 ``InvalidAccessKeyId.NotFound``;
- ``PhoneNumbers``, ``SignName`` and ``TemplateCode`` are required
  (``MissingPhoneNumbers`` …), ``TemplateParam`` must be a JSON object;
- business errors come back as HTTP 200 with their ``Code`` (``isv.MOBILE_NUMBER_ILLEGAL``
  for a malformed number, ``isv.SMS_TEMPLATE_ILLEGAL`` for an unknown template,
  ``isv.SMS_SIGNATURE_ILLEGAL`` for an unknown sign name), success as
  ``{"Code": "OK", "Message": "OK", "BizId": "…", "RequestId": "…"}``.

Tests script faults with :meth:`AlibabaFake.fail_next` (any code and HTTP status) and
:meth:`AlibabaFake.hang_next` (no answer: a read timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

_AUTHORIZATION = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$")
_MAINLAND_MOBILE = re.compile(r"^(?:\+?86|0086)?1[3-9]\d{9}$")


@dataclass
class AlibabaFake:
    """The fake's state: account, registered sign names and templates, and what it received."""

    access_key_id: str = "LTAI-test-key"
    access_key_secret: str = "test-secret"
    sign_names: set[str] = field(default_factory=lambda: {"民意回访"})
    templates: set[str] = field(default_factory=lambda: {"SMS_0001", "SMS_0002", "SMS_0003"})
    requests: list[dict[str, str]] = field(default_factory=list)
    _faults: list[tuple[int, str, str] | None] = field(default_factory=list)
    _biz_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(900000))
    url: str = ""

    def fail_next(self, code: str, http_status: int = 200, message: str = "scripted") -> None:
        """Answer the next SendSms with ``code`` (and ``http_status``)."""
        self._faults.append((http_status, code, message))

    def hang_next(self) -> None:
        """Never answer the next SendSms (the client's read timeout fires)."""
        self._faults.append(None)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        """One HTTP exchange; None as the answer means "hang"."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        failure = self._verify(method, parts.path or "/", query, headers, body)
        if failure:
            return failure
        action, version = headers.get("x-acs-action"), headers.get("x-acs-version")
        if (action, version) != ("SendSms", "2017-05-25"):
            return 400, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"}
        self.requests.append(query)
        if self._faults:
            fault = self._faults.pop(0)
            if fault is None:
                return 0, None
            status, code, message = fault
            return status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())}
        return 200, self._send_sms(query)

    def _verify(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]] | None:
        match = _AUTHORIZATION.match(headers.get("authorization", ""))
        if not match:
            return 400, {"Code": "MissingAuthorization", "Message": "Authorization is mandatory"}
        key_id, signed_headers, signature = match.groups()
        if key_id != self.access_key_id:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return 400, {"Code": "ContentSHA256NotMatch", "Message": "the payload hash does not match"}
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query.items()))
        names = signed_headers.split(";")
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
        canonical_request = "\n".join([method, path, canonical_query, canonical_headers, signed_headers, payload_hash])
        string_to_sign = f"ACS3-HMAC-SHA256\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(self.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}
        return None

    def _send_sms(self, query: dict[str, str]) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not query.get(name):
                return {"Code": f"Missing{name}", "Message": f"{name} is mandatory", "RequestId": request_id}
        if not _MAINLAND_MOBILE.match(query["PhoneNumbers"]):
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": request_id}
        if query["SignName"] not in self.sign_names:
            return {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名", "RequestId": request_id}
        if query["TemplateCode"] not in self.templates:
            return {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板", "RequestId": request_id}
        if "TemplateParam" in query:
            try:
                params = json.loads(query["TemplateParam"])
            except ValueError:
                params = None
            if not isinstance(params, dict):
                return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法", "RequestId": request_id}
        biz_id = f"{next(self._biz_ids)}^0"
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}


class _Handler(BaseHTTPRequestHandler):
    fake: AlibabaFake
    hang: threading.Event

    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = self.fake.handle(method, self.path, headers, body)
        if answer is None:
            self.hang.wait(5)
            return
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AlibabaFakeServer:
    """The fake behind a real HTTP server on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, fake: AlibabaFake) -> None:
        self.hang = threading.Event()
        handler = type("Handler", (_Handler,), {"fake": fake, "hang": self.hang})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self._server.server_address[1]}"
        fake.url = f"http://{self.endpoint}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> AlibabaFakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hang.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
