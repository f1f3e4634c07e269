"""OpenAPI 3.1 description of the public endpoints (served at /usage_billing/v1/openapi.json)."""

import copy

from . import openapi_read
from .lifecycle_payload import MAX_SEATS
from .openapi_fragments import (
    COUNT,
    EXTERNAL_ID,
    INSTANT,
    TEXT,
    error_responses,
    json_response,
    signed_headers,
)
from .payload import MAX_PROPERTIES_BYTES, MAX_PROPERTIES_DEPTH

NO_NUL = (
    "Strings anywhere in an event must not contain U+0000 or a lone surrogate "
    "(the event is rejected with invalid_characters)."
)

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": TEXT, "message": TEXT},
        }
    },
}

USAGE_EVENT = {
    "type": "object",
    "description": NO_NUL,
    "required": ["event_id", "tenant", "metric", "quantity", "timestamp"],
    "properties": {
        "event_id": EXTERNAL_ID,
        "tenant": {**EXTERNAL_ID, "description": "External tenant id"},
        "metric": {**EXTERNAL_ID, "description": "Metric code"},
        "quantity": {
            "oneOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^[ \t]*[0-9]+(\.[0-9]+)?[ \t]*$"},
            ]
        },
        "timestamp": INSTANT,
        "properties": {
            "type": "object",
            "description": f"Free-form attributes, stored as sent: nested at most "
            f"{MAX_PROPERTIES_DEPTH} levels, at most {MAX_PROPERTIES_BYTES} bytes as compact "
            "UTF-8 JSON, numbers within the range of a double (else invalid_properties).",
        },
    },
}

EVENT_RESULT = {
    "type": "object",
    "required": ["event_id", "status"],
    "properties": {
        "event_id": {"type": ["string", "null"]},
        "status": {"enum": ["accepted", "duplicate", "quarantined", "rejected"]},
        "error": {"$ref": "#/components/schemas/Error/properties/error"},
    },
    "additionalProperties": False,
}

INGEST_RESPONSE = {
    "type": "object",
    "required": ["request_id", "accepted", "duplicates", "quarantined", "rejected", "results"],
    "properties": {
        "request_id": TEXT,
        "accepted": COUNT,
        "duplicates": COUNT,
        "quarantined": COUNT,
        "rejected": COUNT,
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/EventResult"}},
    },
    "additionalProperties": False,
}

SIGNED_HEADERS = signed_headers("'<t>.' + raw body")

BATCH_ERRORS = {
    "400": "Malformed body (not UTF-8 JSON, nested deeper than 64 levels), too many events",
    "401": "Unknown key, bad or stale signature",
    "413": "Body too large",
    "415": "Content-Type is not application/json",
    "429": "Rate limit exceeded (see Retry-After)",
    "500": "Internal error; nothing was stored",
    "503": "busy: concurrent updates of the same records failed every try; nothing was "
    "stored (see Retry-After)",
}


def _batch_operation(summary, event_schema):
    return {
        "summary": summary,
        "parameters": SIGNED_HEADERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["events"],
                        "properties": {
                            "events": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"$ref": f"#/components/schemas/{event_schema}"},
                            }
                        },
                    }
                }
            },
        },
        "responses": {
            "200": json_response(
                "One result per event, in request order. An event that does "
                "not match its schema (or reuses an event_id with another payload) is rejected "
                "on its own, with an error code in its result; the request is still answered "
                "200 and the other events are processed.",
                "IngestResponse",
            ),
            **error_responses(BATCH_ERRORS),
        },
    }


LIFECYCLE_EVENT = {
    "type": "object",
    "description": NO_NUL
    + " Events may arrive in any order: the subscription follows its latest effective "
    "change; a change inside a period that already has a statement is rejected "
    "(period_closed); a plan must have a price list in the tenant's currency "
    "(currency_mismatch).",
    "required": ["event_id", "tenant", "type", "effective_at"],
    "properties": {
        "event_id": EXTERNAL_ID,
        "tenant": EXTERNAL_ID,
        "type": {
            "enum": [
                "activated",
                "plan_changed",
                "seats_changed",
                "suspended",
                "reactivated",
                "cancelled",
            ]
        },
        "plan": {**EXTERNAL_ID, "description": "Plan code (activated, plan_changed)"},
        "seats": {"type": "integer", "minimum": 0, "maximum": MAX_SEATS},
        "effective_at": INSTANT,
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Usage Billing API", "version": "1.0.0"},
    "paths": {
        "/usage_billing/v1/events": {"post": _batch_operation("Send usage events", "UsageEvent")},
        "/usage_billing/v1/subscription_events": {
            "post": _batch_operation("Send subscription lifecycle events", "LifecycleEvent")
        },
        "/usage_billing/v1/health": {
            "get": {
                "summary": "Liveness with a database round-trip",
                "responses": {"200": json_response("Healthy", "Health")},
            }
        },
        "/usage_billing/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document"}},
            }
        },
        **openapi_read.PATHS,
    },
    "components": {
        "schemas": {
            "Error": ERROR,
            "UsageEvent": USAGE_EVENT,
            "LifecycleEvent": LIFECYCLE_EVENT,
            "EventResult": EVENT_RESULT,
            "IngestResponse": INGEST_RESPONSE,
            "Health": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"const": "ok"}},
            },
            **openapi_read.SCHEMAS,
        }
    },
}


def openapi_document(server_url=None):
    document = copy.deepcopy(DOCUMENT)
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    return document
