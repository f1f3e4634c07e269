"""OpenAPI description of the read endpoints (merged into ``openapi.DOCUMENT``)."""

from .read_api import MAX_PAGE

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
NULLABLE_DECIMAL = {"type": ["string", "null"], "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
INSTANT = {"type": "string", "format": "date-time"}
LIMIT_STATE = {"enum": ["ok", "soft_exceeded", "hard_exceeded"]}


def signed_headers(signed_text):
    """Headers of a signed request; ``signed_text`` is what the HMAC covers."""
    return [
        {
            "name": "X-Usage-Key",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "Public key id of the API key.",
        },
        {
            "name": "X-Usage-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "examples": ["t=1767225600,v1=5f2b..."]},
            "description": f"t=<unix seconds>,v1=<hex HMAC-SHA256(secret, {signed_text})>; "
            "several v1 entries may be sent while rotating secrets.",
        },
        {"name": "X-Request-Id", "in": "header", "required": False, "schema": {"type": "string"}},
    ]


SIGNED_GET_HEADERS = signed_headers(
    "'<t>.GET <path?query>', the path and query string exactly as sent"
)
TENANT = {
    "name": "tenant",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
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
        "tenant": {"type": "string"},
        "plan": {"type": "string"},
        "currency": {"type": "string"},
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
                    "metric": {"type": "string"},
                    "name": {"type": "string"},
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
                "properties": {"name": {"type": "string"}, "amount": DECIMAL},
            },
        },
        "amount_untaxed": DECIMAL,
        "credits": {
            "type": "object",
            "description": "Prepaid credit that can pay usage today; statements use it first.",
            "required": ["balance", "currency", "expires"],
            "properties": {
                "balance": DECIMAL,
                "currency": {"type": "string"},
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
        "tenant": {"type": "string"},
        "as_of": INSTANT,
        "entitlements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["metric", "allowed", "limit_state", "remaining"],
                "properties": {
                    "metric": {"type": "string"},
                    "allowed": {"type": "boolean"},
                    "limit_state": LIMIT_STATE,
                    "remaining": NULLABLE_DECIMAL,
                },
            },
        },
    },
}

INVOICES = {
    "type": "object",
    "required": ["data", "has_more"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
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
                    "number": {"type": "string"},
                    "date": {"type": ["string", "null"], "format": "date"},
                    "due_date": {"type": ["string", "null"], "format": "date"},
                    "currency": {"type": "string"},
                    "amount_untaxed": DECIMAL,
                    "amount_total": DECIMAL,
                    "amount_residual": DECIMAL,
                    "state": {"type": "string"},
                    "payment_state": {"type": "string"},
                    "portal_url": {"type": "string"},
                    "period_start": {"type": ["string", "null"], "format": "date-time"},
                    "period_end": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
        "has_more": {"type": "boolean"},
    },
}


def _errors(extra):
    described = {
        "401": "Unknown key, bad or stale signature",
        "403": "The key may not read this tenant (tenant_not_allowed)",
        "404": "Unknown tenant (unknown_tenant) or no subscription (no_subscription)",
        "429": "Rate limit exceeded (see Retry-After)",
        "500": "Internal error",
        **extra,
    }
    return {
        status: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, text in described.items()
    }


def _read(summary, schema, query=(), errors=None):
    return {
        "summary": summary,
        "parameters": [*SIGNED_GET_HEADERS, TENANT, *query],
        "responses": {
            "200": {
                "description": summary,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            **_errors(errors or {}),
        },
    }


PERIOD = {
    "name": "period",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "current (default), previous, or an RFC 3339 instant: its period.",
}
LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
}
STARTING_AFTER = {
    "name": "starting_after",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The number of the last invoice of the previous page.",
}

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
