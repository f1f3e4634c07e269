"""HTTP endpoints of the product platform: authenticate, parse, delegate.

Every answer is JSON, errors included (``{"error": {"code", "message"}}``), and
carries the request id in ``X-Request-Id``.
"""

import logging
import time

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..core.openapi import openapi_document
from ..core.payload import BatchError, parse_body
from ..exceptions import RateLimitExceeded
from ..utils.params import get_int_param
from .signed_api import RETRIED, ApiError, SignedApi, api_route

_logger = logging.getLogger(__name__)


class UsageApiController(SignedApi, http.Controller):
    @api_route("/events", "POST")
    def post_events(self):
        return self._ingest("events", "usage.event", "_ingest_batch")

    @api_route("/subscription_events", "POST")
    def post_subscription_events(self):
        return self._ingest("subscription_events", "usage.subscription.change", "_ingest_batch")

    @api_route("/health", signed=False)
    def health(self):
        request.env.cr.execute("SELECT 1")
        return request.make_json_response({"status": "ok"})

    @api_route("/openapi.json", signed=False)
    def openapi(self):
        return request.make_json_response(openapi_document(request.httprequest.host_url))

    # ---------------------------------------------------------------- pipeline

    def _ingest(self, endpoint, model, method):
        started = time.monotonic()
        self._start_try()
        # auth='none' gives no user; the records written here belong to the
        # superuser, and the caller is authenticated by its signature below.
        request.update_env(user=SUPERUSER_ID)
        request_id = self._request_id()
        log = {"request_id": request_id, "endpoint": endpoint}
        try:
            body = self._read_body()
            api_key = self._authenticate(body)
            log.update(api_key_id=api_key.id, company_id=api_key.company_id.id)
            api_key._check_rate_limit()
            raw_events = parse_body(body, get_int_param(request.env, "max_events"))
            # sudo: the signature authenticated the caller; every query of the
            # handler is scoped to the key's company explicitly.
            records = request.env[model].sudo().with_company(api_key.company_id)
            with request.env.cr.savepoint():
                results, counts = getattr(records, method)(api_key, raw_events, request_id)
        except BatchError as exc:
            return self._error(log, started, ApiError(exc.status, exc.code, exc.message))
        except RateLimitExceeded as exc:
            headers = {"Retry-After": str(exc.retry_after)}
            return self._error(log, started, ApiError(429, "rate_limited", str(exc), headers))
        except ApiError as exc:
            return self._error(log, started, exc)
        except RETRIED:
            # Concurrent writes on the same rows (an event_id, a subscription a billing
            # job is closing): Odoo retries the request, then it is answered busy.
            busy = self._busy(request_id)
            if busy is None:
                raise
            return self._error(log, started, busy)
        except Exception:
            _logger.exception("Ingestion request %s failed", request_id)
            error = ApiError(500, "internal_error", "Internal error; nothing was stored.")
            return self._error(log, started, error)
        rejected = [r for r in results if r["status"] == "rejected"]
        self._log(log, started, 200, counts=counts, errors=rejected[:100] or None)
        payload = {"request_id": request_id, **counts, "results": results}
        return request.make_json_response(payload, headers={"X-Request-Id": request_id})

    def _read_body(self):
        httprequest = request.httprequest
        mimetype = httprequest.mimetype
        if mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json.")
        limit = get_int_param(request.env, "max_body_bytes")
        if (httprequest.content_length or 0) > limit:
            raise ApiError(413, "payload_too_large", f"Body is larger than {limit} bytes.")
        body = httprequest.get_data(cache=True)
        if len(body) > limit:
            raise ApiError(413, "payload_too_large", f"Body is larger than {limit} bytes.")
        return body

    def _error(self, log, started, error):
        self._log(log, started, error.status, error_code=error.code, errors=[error.message])
        return self._json_error(error, log["request_id"])

    def _log(self, log, started, status, counts=None, error_code=None, errors=None):
        counts = counts or {}
        request.env["usage.ingest.log"]._record(
            {
                **log,
                "http_status": status,
                "accepted": counts.get("accepted", 0),
                "duplicates": counts.get("duplicates", 0),
                "quarantined": counts.get("quarantined", 0),
                "rejected": counts.get("rejected", 0),
                "duration_ms": int((time.monotonic() - started) * 1000),
                "error_code": error_code,
                "errors": errors,
            }
        )
