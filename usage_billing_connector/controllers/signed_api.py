"""What every endpoint of the product platform shares: request ids, signatures, errors."""

import logging
import re
import uuid

from odoo import http
from odoo.exceptions import ConcurrencyError
from odoo.http import request
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)

from ..core.signing import SignatureError
from ..utils.params import get_int_param

_logger = logging.getLogger(__name__)

#: What Odoo retries a request for (concurrent writes of the same rows): a handler
#: re-raises them, and after Odoo's last try answers busy (``SignedApi._busy``).
RETRIED = (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, ConcurrencyError)

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

    def _start_try(self):
        """Odoo runs an endpoint again after a serialization failure: count its tries."""
        request.usage_api_try = getattr(request, "usage_api_try", 0) + 1

    def _busy(self, request_id):
        """After one of ``RETRIED`` (concurrent writes of the same rows): ``None``
        while Odoo has tries left (re-raise for its next one); after its last, the
        JSON answer instead of Odoo's error page, the transaction rolled back."""
        if request.usage_api_try < MAX_TRIES_ON_CONCURRENCY_FAILURE:
            return None
        request.env.cr.rollback()
        request.env.transaction.reset()  # as Odoo does between its tries
        _logger.warning("Request %s: concurrent updates at every try", request_id)
        message = "Concurrent updates of the same records; nothing was stored. Retry."
        return ApiError(503, "busy", message, {"Retry-After": "1"})

    def _json_error(self, error, request_id):
        body = {"error": {"code": error.code, "message": error.message}}
        headers = {"X-Request-Id": request_id, **error.headers}
        return request.make_json_response(body, headers=headers, status=error.status)
