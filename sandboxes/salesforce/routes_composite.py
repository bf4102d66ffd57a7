"""Composite and OAuth routes of the Salesforce sandbox.

``POST composite`` [ref §1.6, comp]: ``{"allOrNone", "collateSubrequests",
"compositeRequest": [{"method", "url", "referenceId", "body"?, "httpHeaders"?}]}``, at
most 25 subrequests (more → 400 ``LIMIT_EXCEEDED``, unverified body), one API call. Each
subrequest runs through the same route table as a request of its own (``url`` must start
with ``/services/data/v59.0/``; composite inside composite is refused), with its own
``httpHeaders`` (``Sforce-Auto-Assign`` among them) over the outer request's. ``@{ref.path}``
in its url or body is replaced by the value at ``path`` (``id``, ``records[0].Id``) of an
earlier subrequest's body: a string that is only a reference takes the value itself.
Answer: 200 ``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode",
"referenceId"}]}`` in order (a 201 carries ``Location``). A reference to a failed or
unknown subrequest → that subrequest answers 400 ``PROCESSING_HALTED`` "Invalid reference
specified..." (text unverified). With ``allOrNone`` the first failure rolls everything
back, and every other subrequest answers 400 ``PROCESSING_HALTED`` "The transaction was
rolled back since another operation in the same transaction failed." [comp].

``POST /services/oauth2/token`` (form-encoded) [ref §1.1]: ``grant_type`` ``password``
(``username`` of an active user; ``password`` checked only when one was set with
``set_password``), ``client_credentials`` (runs as the integration user) or
``urn:ietf:params:oauth:grant-type:jwt-bearer`` (``assertion``: the ``sub`` claim names the
user; the signature is not checked). Answer ``{"access_token", "instance_url", "id",
"token_type": "Bearer", "issued_at", "signature"}``; refusals 400 ``{"error":
"invalid_grant", "error_description": "authentication failure"}`` or
``unsupported_grant_type`` (OAuth error shape). A token is a new session.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .dispatch import Dispatch, Request
from .records import Json
from .shapes import DATA_PREFIX, ApiError, bad, sobject_url

MAX_SUBREQUESTS = 25
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_REFERENCE = re.compile(r"@\{([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)\}")
_ROLLED_BACK = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]


class _Unresolved(Exception):
    """A ``@{ref.path}`` that names no value."""


class CompositeRoutes(Dispatch):
    """``POST composite`` and the OAuth token endpoint (a mixin of the sandbox)."""

    def _composite(self, request: Request) -> tuple[int, Any]:
        data = request.json()
        subrequests = data.get("compositeRequest") if isinstance(data, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            raise bad("JSON_PARSER_ERROR", "compositeRequest must be a non-empty list")
        if len(subrequests) > MAX_SUBREQUESTS:
            raise bad("LIMIT_EXCEEDED", "Exceeded max limit of subrequests, which is 25")
        all_or_none = bool(data.get("allOrNone", False))
        snap = self.snapshot() if all_or_none else None
        results: dict[str, tuple[int, Any]] = {}
        out: list[Json] = []
        for sub in subrequests:
            if not isinstance(sub, dict) or not isinstance(sub.get("referenceId"), str):
                raise bad("JSON_PARSER_ERROR", "Each subrequest needs a referenceId")
            status, body = self._subrequest(request, sub, results)
            results[sub["referenceId"]] = (status, body)
            headers: dict[str, str] = {}
            if status == 201 and isinstance(body, dict) and "id" in body:
                sobject = str(sub.get("url", "")).rstrip("/").rsplit("/", 1)[-1]
                headers["Location"] = sobject_url(sobject, body["id"])
            out.append(
                {
                    "body": body,
                    "httpHeaders": headers,
                    "httpStatusCode": status,
                    "referenceId": sub["referenceId"],
                }
            )
            if status >= 400 and snap is not None:
                self.restore(snap)
                failed = sub["referenceId"]
                for item in subrequests:
                    reference = item.get("referenceId") if isinstance(item, dict) else None
                    if reference == failed:
                        continue
                    halted = {
                        "body": _ROLLED_BACK,
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": reference,
                    }
                    index = next(
                        (i for i, o in enumerate(out) if o["referenceId"] == reference), None
                    )
                    if index is None:
                        out.append(halted)
                    else:
                        out[index] = halted
                break
        return 200, {"compositeResponse": out}

    def _subrequest(
        self, outer: Request, sub: Json, results: Mapping[str, tuple[int, Any]]
    ) -> tuple[int, Any]:
        try:
            url = _resolve(sub.get("url"), results)
            body = _resolve(sub.get("body"), results)
        except _Unresolved as exc:
            ref = str(exc)
            return 400, [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": f"Invalid reference specified. No value for {ref} found in "
                    f"{ref.split('.')[0].split('[')[0]}. Provided referenceId "
                    f"('{ref.split('.')[0]}') must be defined before it is used.",
                }
            ]
        method = str(sub.get("method", "")).upper()
        if not isinstance(url, str) or not url.startswith(DATA_PREFIX + "/"):
            return 400, [
                {"errorCode": "INVALID_URL", "message": f"The url must start with {DATA_PREFIX}/"}
            ]
        parts = urlsplit(url)
        if parts.path.rstrip("/") == f"{DATA_PREFIX}/composite":
            return 400, [
                {
                    "errorCode": "INVALID_URL",
                    "message": "composite is not supported as a subrequest",
                }
            ]
        headers = dict(outer.headers)
        for name, value in (sub.get("httpHeaders") or {}).items():
            headers[str(name).lower()] = str(value)
        request = Request(
            method,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            headers,
            body,
            outer.user_id,
        )
        try:
            return self.route(request)
        except ApiError as exc:
            return exc.status, exc.body

    # ------------------------------------------------------------------ OAuth

    def _oauth_token(
        self, method: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Json]:
        if method != "POST":
            raise ApiError(405, {"error": "invalid_request", "error_description": "must use POST"})
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        if grant == "password":
            user_id = self._user_by_username(form.get("username"))
            wanted = self.passwords.get(form.get("username", ""))
            if user_id is None or (wanted is not None and form.get("password") != wanted):
                raise _invalid_grant()
        elif grant == "client_credentials":
            user_id = self.integration_user
        elif grant == JWT_GRANT:
            user_id = self._user_by_username(_jwt_subject(form.get("assertion", "")))
            if user_id is None:
                raise _invalid_grant()
        else:
            raise ApiError(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
            )
        token = self.new_session(user_id)
        issued = str(int(self.now().timestamp() * 1000))
        return 200, {
            "access_token": token,
            "instance_url": self.base_url,
            "id": f"https://login.salesforce.com/id/00DDp0000000001EAA/{user_id}",
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": base64.b64encode(f"{token}{issued}".encode()).decode(),
        }

    # ------------------------------------------------------------------ SOAP login

    def _soap_login(self, body: bytes) -> tuple[int, bytes]:
        """The partner API's ``login`` (``POST /services/Soap/u/<version>``), as
        simple-salesforce sends it for username + password + security token: the password
        element carries the password with the token appended. Success answers the
        ``loginResponse`` with ``serverUrl`` and ``sessionId``; anything else the SOAP
        fault ``INVALID_LOGIN`` with HTTP 500 (reference §1.1; the partner WSDL's shapes)."""
        text = body.decode("utf-8", "replace")
        username = _xml_element(text, "username")
        password = _xml_element(text, "password")
        user_id = self._user_by_username(username)
        wanted = self.passwords.get(username or "")
        if user_id is None or (wanted is not None and password != wanted):
            return 500, SOAP_FAULT.encode()
        token = self.new_session(user_id)
        server = f"{self.base_url}/services/Soap/u/59.0/00DDp0000000001"
        return 200, SOAP_LOGIN.format(server=server, session=token, user=user_id).encode()

    def _user_by_username(self, username: str | None) -> str | None:
        for user in self.data["User"].values():
            if username and user["Username"] == username and user["IsActive"]:
                return str(user["Id"])
        return None


def _invalid_grant() -> ApiError:
    return ApiError(400, {"error": "invalid_grant", "error_description": "authentication failure"})


def _jwt_subject(assertion: str) -> str | None:
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject if isinstance(subject, str) else None


def _lookup(value: Any, path: str, ref: str) -> Any:
    for step in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        name, index = step
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise _Unresolved(ref + path)
    return value


def _resolve(value: Any, results: Mapping[str, tuple[int, Any]]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def fetch(match: re.Match[str]) -> Any:
        ref, path = match.group(1), match.group(2)
        found = results.get(ref)
        if found is None or found[0] >= 400:
            raise _Unresolved(ref + path)
        return _lookup(found[1], path, ref)

    whole = _REFERENCE.fullmatch(value)
    if whole is not None:
        return fetch(whole)
    return _REFERENCE.sub(lambda m: str(fetch(m)), value)


SOAP_LOGIN = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>\
<passwordExpired>false</passwordExpired><serverUrl>{server}</serverUrl>\
<sessionId>{session}</sessionId><userId>{user}</userId></result></loginResponse>\
</soapenv:Body></soapenv:Envelope>"""
SOAP_FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>\
<faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, \
password, security token; or user locked out.</faultstring><detail><sf:LoginFault>\
<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, \
password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault>\
</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""


def _xml_element(text: str, name: str) -> str | None:
    """The text of the first ``<prefix:name>`` element (no entity decoding needed here)."""
    match = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", text, re.DOTALL)
    return html.unescape(match.group(1)) if match else None
