"""What the product platform can read back: usage so far, entitlements, invoices.

Signed GETs: ``X-Usage-Signature: t=<unix>,v1=<hex>`` over ``<t>.GET <path?query>``
exactly as sent, with the key's secret; same tolerance, rotation, rate limit and
tenant scope as ingestion.  Authenticate, parse, delegate to ``usage.tenant``.
"""

import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..core import read_api
from ..core.untrusted_json import UntrustedJsonError, check_text
from ..exceptions import RateLimitExceeded, ReadApiError
from .signed_api import RETRIED, ApiError, SignedApi, api_route

_logger = logging.getLogger(__name__)


class ReadApiController(SignedApi, http.Controller):
    @api_route("/tenants/<string:tenant>/usage")
    def tenant_usage(self, tenant, **_params):
        def answer(record):
            query = read_api.parse_period(request.httprequest.args.get("period"))
            return record._api_usage(query)

        return self._read(tenant, answer)

    @api_route("/tenants/<string:tenant>/entitlements")
    def tenant_entitlements(self, tenant, **_params):
        return self._read(tenant, lambda record: record._api_entitlements())

    # read/write also for the portal links' access tokens, created on first use
    @api_route("/tenants/<string:tenant>/invoices")
    def tenant_invoices(self, tenant, **_params):
        def answer(record):
            args = request.httprequest.args
            limit, cursor = read_api.parse_page(args.get("limit"), args.get("starting_after"))
            return record._api_invoices(limit, cursor)

        return self._read(tenant, answer)

    # ---------------------------------------------------------------- pipeline

    def _request_target(self):
        """The path and query string exactly as the client sent them (what it signed)."""
        environ = request.httprequest.environ
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not target:
            query = environ.get("QUERY_STRING")
            target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        return target

    def _read(self, tenant, answer):
        # auth='none' gives no user: the caller is authenticated by its signature,
        # and every read below is scoped to its key's company and tenants.
        request.update_env(user=SUPERUSER_ID)
        request_id = self._request_id()
        self._start_try()
        try:
            api_key = self._authenticate(read_api.signed_get(self._request_target()))
            api_key._check_rate_limit()
            try:
                check_text(tenant, "tenant")
            except UntrustedJsonError:
                raise ReadApiError(404, "unknown_tenant", "No tenant with this id.") from None
            # sudo: the signature authenticated the caller; the tenant is looked up
            # in its key's company and checked against the key's scope.
            tenants = request.env["usage.tenant"].sudo().with_company(api_key.company_id)
            record = tenants._api_tenant(api_key, tenant)
            payload = answer(record)
        except RateLimitExceeded as exc:
            headers = {"Retry-After": str(exc.retry_after)}
            return self._json_error(ApiError(429, "rate_limited", str(exc), headers), request_id)
        except (ReadApiError, read_api.QueryError) as exc:
            status = getattr(exc, "status", 400)
            return self._json_error(ApiError(status, exc.code, exc.message), request_id)
        except ApiError as exc:
            return self._json_error(exc, request_id)
        except RETRIED:
            # A concurrent write (a portal token): Odoo retries the request, then it
            # is answered busy.
            busy = self._busy(request_id)
            if busy is None:
                raise
            return self._json_error(busy, request_id)
        except Exception:
            _logger.exception("Read request %s failed", request_id)
            error = ApiError(500, "internal_error", "Internal error.")
            return self._json_error(error, request_id)
        return request.make_json_response(payload, headers={"X-Request-Id": request_id})
