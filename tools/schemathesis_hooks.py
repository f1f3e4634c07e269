"""Schemathesis 4 hooks: sign every generated request the way the usage API requires.

Schemathesis is not a dependency of the project (it pins packages that Odoo's
interpreter must not get): run it from a throwaway virtualenv, with ``tools/``
on ``PYTHONPATH`` so that it finds this module and the reference client::

    python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis
    PYTHONPATH=tools SCHEMATHESIS_HOOKS=schemathesis_hooks \\
    USAGE_KEY=demo-key USAGE_SECRET=demo-secret-change-me \\
        /tmp/st/bin/schemathesis run http://127.0.0.1:8069/usage_billing/v1/openapi.json

How the exact bytes get signed: the ``before_call`` hook runs before the case is
serialised, so it cannot see the body that will be sent.  It puts a
``requests`` auth object into the call's keyword arguments instead (Schemathesis
passes them on to ``requests``), and ``requests`` applies an auth object to the
*prepared* request, after the body is encoded: the signature covers the bytes on
the wire.  A request with a body is signed over ``"<t>." + body``; one without
(a GET) over ``"<t>.<METHOD> <path?query>"``, the contract for signed GETs.

Only headers the case carries are replaced: when Schemathesis leaves
``X-Usage-Key`` or ``X-Usage-Signature`` out on purpose (its
``missing_required_header`` check), they stay out.
"""

import os
import time

import requests
import usage_client

try:
    import schemathesis
except ImportError:  # imported by the repo-level tests, without Schemathesis
    schemathesis = None

KEY_HEADER = "X-Usage-Key"
SIGNATURE_HEADER = "X-Usage-Signature"


def signed_bytes(method, path_url, body):
    """What the signature covers: the raw body, else ``<METHOD> <path?query>``."""
    if body is None:
        return f"{method.upper()} {path_url}".encode()
    return body.encode() if isinstance(body, str) else bytes(body)


class UsageSignature(requests.auth.AuthBase):
    """Sign a prepared request with ``X-Usage-Key`` / ``X-Usage-Signature``."""

    def __init__(self, key_id, secret, clock=time.time):
        self.key_id, self.secret, self.clock = key_id, secret, clock

    def __call__(self, request):
        if KEY_HEADER in request.headers:
            request.headers[KEY_HEADER] = self.key_id
        if SIGNATURE_HEADER in request.headers:
            signed = signed_bytes(request.method, request.path_url, request.body)
            request.headers[SIGNATURE_HEADER] = usage_client.sign_header(
                self.secret, int(self.clock()), signed
            )
        return request


def from_environment(environ=os.environ):
    secret = environ.get("USAGE_SECRET")
    if not secret:
        raise RuntimeError("set USAGE_SECRET (and USAGE_KEY, default demo-key) to sign requests")
    return UsageSignature(environ.get("USAGE_KEY", "demo-key"), secret)


if schemathesis is not None:

    @schemathesis.hook
    def before_call(context, case, kwargs):
        """Every call of the run goes out signed (see the module docstring)."""
        kwargs["auth"] = from_environment()
