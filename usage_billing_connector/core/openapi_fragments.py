"""Pieces of the OpenAPI description that its operations and schemas share."""

TEXT = {"type": "string"}
#: An id the platform chooses: event, tenant, metric, plan.
EXTERNAL_ID = {"type": "string", "minLength": 1, "maxLength": 128}
COUNT = {"type": "integer", "minimum": 0}
INSTANT = {"type": "string", "format": "date-time"}
NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}

#: Quantities and amounts are decimal strings (exact, never floats).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL = {"type": "string", "pattern": DECIMAL_PATTERN}
NULLABLE_DECIMAL = {"type": ["string", "null"], "pattern": DECIMAL_PATTERN}


def json_response(description, schema_name):
    """A response whose JSON body follows ``components/schemas/<schema_name>``."""
    schema = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_responses(described):
    """``{status: description}`` → the responses, each a JSON ``Error``."""
    return {status: json_response(text, "Error") for status, text in described.items()}


def query_param(name, schema, description=None):
    """An optional query string parameter."""
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def signed_headers(signed_text):
    """Headers of a signed request; ``signed_text`` is what the HMAC covers."""
    return [
        {
            "name": "X-Usage-Key",
            "in": "header",
            "required": True,
            "schema": TEXT,
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
        {"name": "X-Request-Id", "in": "header", "required": False, "schema": TEXT},
    ]
