"""OpenAPI description of the read endpoints (merged into ``openapi.DOCUMENT``)."""

from .openapi_fragments import (
    DECIMAL,
    EXTERNAL_ID,
    INSTANT,
    NULLABLE_DATE,
    NULLABLE_DECIMAL,
    NULLABLE_INSTANT,
    TEXT,
    error_responses,
    json_response,
    query_param,
    signed_headers,
)
from .read_api import MAX_PAGE

LIMIT_STATE = {"enum": ["ok", "soft_exceeded", "hard_exceeded"]}


SIGNED_GET_HEADERS = signed_headers(
    "'<t>.GET <path?query>', the path and query string exactly as sent"
)
TENANT = {
    "name": "tenant",
    "in": "path",
    "required": True,
    "schema": EXTERNAL_ID,
    "description": "The tenant's external id.",
}

USAGE = {
    "type": "object",
    "required": [
        "tenant",
        "plan",
        "currency",
        "period_start",
        "period_end",
        "as_of",
        "metrics",
        "fees",
        "amount_untaxed",
        "credits",
    ],
    "properties": {
        "tenant": TEXT,
        "plan": TEXT,
        "currency": TEXT,
        "period_start": INSTANT,
        "period_end": INSTANT,
        "as_of": INSTANT,
        "metrics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "metric",
                    "name",
                    "aggregation",
                    "used",
                    "included",
                    "remaining",
                    "unit",
                    "amount",
                    "soft_limit",
                    "hard_limit",
                    "limit_state",
                ],
                "properties": {
                    "metric": TEXT,
                    "name": TEXT,
                    "aggregation": {"enum": ["sum", "max", "count", "unique_count", "last"]},
                    "used": DECIMAL,
                    "included": DECIMAL,
                    "remaining": NULLABLE_DECIMAL,
                    "unit": {"type": ["string", "null"]},
                    "amount": DECIMAL,
                    "soft_limit": NULLABLE_DECIMAL,
                    "hard_limit": NULLABLE_DECIMAL,
                    "limit_state": LIMIT_STATE,
                },
            },
        },
        "fees": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "amount"],
                "properties": {"name": TEXT, "amount": DECIMAL},
            },
        },
        "amount_untaxed": DECIMAL,
        "credits": {
            "type": "object",
            "description": "Prepaid credit that can pay usage today; statements use it first.",
            "required": ["balance", "currency", "expires"],
            "properties": {
                "balance": DECIMAL,
                "currency": TEXT,
                "expires": {
                    "type": "array",
                    "description": "Upcoming expiries, soonest first.",
                    "items": {
                        "type": "object",
                        "required": ["date", "amount"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "amount": DECIMAL,
                        },
                    },
                },
            },
        },
    },
}

ENTITLEMENTS = {
    "type": "object",
    "required": ["tenant", "as_of", "entitlements"],
    "properties": {
        "tenant": TEXT,
        "as_of": INSTANT,
        "entitlements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["metric", "allowed", "limit_state", "remaining"],
                "properties": {
                    "metric": TEXT,
                    "allowed": {"type": "boolean"},
                    "limit_state": LIMIT_STATE,
                    "remaining": NULLABLE_DECIMAL,
                },
            },
        },
    },
}


def page_of(item):
    """A page of a list: ``has_more`` says whether ``starting_after`` the last item gives more."""
    return {
        "type": "object",
        "required": ["data", "has_more"],
        "properties": {
            "data": {"type": "array", "items": item},
            "has_more": {"type": "boolean"},
        },
    }


INVOICES = page_of(
    {
        "type": "object",
        "required": [
            "number",
            "date",
            "due_date",
            "currency",
            "amount_untaxed",
            "amount_total",
            "amount_residual",
            "state",
            "payment_state",
            "portal_url",
            "period_start",
            "period_end",
        ],
        "properties": {
            "number": TEXT,
            "date": NULLABLE_DATE,
            "due_date": NULLABLE_DATE,
            "currency": TEXT,
            "amount_untaxed": DECIMAL,
            "amount_total": DECIMAL,
            "amount_residual": DECIMAL,
            "state": TEXT,
            "payment_state": TEXT,
            "portal_url": TEXT,
            "period_start": NULLABLE_INSTANT,
            "period_end": NULLABLE_INSTANT,
        },
    }
)


def _errors(extra):
    return error_responses(
        {
            "401": "Unknown key, bad or stale signature",
            "403": "The key may not read this tenant (tenant_not_allowed)",
            "404": "Unknown tenant (unknown_tenant) or no subscription (no_subscription)",
            "429": "Rate limit exceeded (see Retry-After)",
            "500": "Internal error",
            "503": "busy: concurrent updates of the same records failed every try (see "
            "Retry-After)",
            **extra,
        }
    )


def _read(summary, schema, query=(), errors=None):
    return {
        "summary": summary,
        "parameters": [*SIGNED_GET_HEADERS, TENANT, *query],
        "responses": {
            "200": json_response(summary, schema),
            **_errors(errors or {}),
        },
    }


PERIOD = query_param(
    "period", TEXT, "current (default), previous, or an RFC 3339 instant: its period."
)
LIMIT = query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE})
STARTING_AFTER = query_param(
    "starting_after", TEXT, "The number of the last invoice of the previous page."
)

PATHS = {
    "/usage_billing/v1/tenants/{tenant}/usage": {
        "get": _read(
            "Usage so far, rated as the statement would be if the period closed now",
            "TenantUsage",
            [PERIOD],
            {"400": "period is not current, previous or an RFC 3339 instant (invalid_period)"},
        )
    },
    "/usage_billing/v1/tenants/{tenant}/entitlements": {
        "get": _read("What the tenant may use: blocked at a hard limit", "TenantEntitlements")
    },
    "/usage_billing/v1/tenants/{tenant}/invoices": {
        "get": _read(
            "Posted invoices, newest first, with their portal links",
            "TenantInvoices",
            [LIMIT, STARTING_AFTER],
            {"400": "Bad limit or cursor (invalid_limit, invalid_cursor)"},
        )
    },
}
SCHEMAS = {"TenantUsage": USAGE, "TenantEntitlements": ENTITLEMENTS, "TenantInvoices": INVOICES}
