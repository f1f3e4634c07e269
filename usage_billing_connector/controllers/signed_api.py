"""What every endpoint of the product platform shares: request ids, signatures, errors."""

import re
import uuid

from odoo import http
from odoo.http import request

from ..core.signing import SignatureError
from ..utils.params import get_int_param

API = "/usage_billing/v1"
REQUEST_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


def api_route(path, method="GET", *, signed=True):
    """``http.route`` of an endpoint of the product platform, at ``API + path``.

    A machine client over plain HTTP: no Odoo user nor session (``auth="none"``), no
    CSRF token, JSON built by the handler.  A ``signed`` endpoint needs a read/write
    cursor: every signed request writes its key's rate counter.
    """
    routing = {"readonly": False} if signed else {}
    return http.route(
        f"{API}{path}", type="http", auth="none", methods=[method], csrf=False, **routing
    )


class ApiError(Exception):
    """An answer of the API that is an error: HTTP ``status``, ``code``, ``message``."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class SignedApi:
    """Helpers of the controllers; the caller proves who it is with its signature."""

    def _request_id(self):
        sent = request.httprequest.headers.get("X-Request-Id", "")
        return sent if REQUEST_ID_RE.match(sent) else str(uuid.uuid4())

    def _authenticate(self, signed):
        """The API key whose secret signed ``signed`` (bytes), else ``ApiError(401)``."""
        headers = request.httprequest.headers
        tolerance = get_int_param(request.env, "signature_tolerance")
        try:
            return request.env["usage.api.key"]._authenticate(
                headers.get("X-Usage-Key"), headers.get("X-Usage-Signature"), signed, tolerance
            )
        except SignatureError as exc:
            raise ApiError(401, exc.code, exc.message) from None

    def _json_error(self, error, request_id):
        body = {"error": {"code": error.code, "message": error.message}}
        headers = {"X-Request-Id": request_id, **error.headers}
        return request.make_json_response(body, headers=headers, status=error.status)
