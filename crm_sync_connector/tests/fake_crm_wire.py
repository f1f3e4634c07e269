"""What every wire format of the fake CRM shares: the recorded request and the reply.

Plain Python (standard library only), used by ``fake_crm_server`` and by one
module per emulated CRM (``fake_hubspot``, ``fake_salesforce``,
``fake_webhook_receiver``).
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass
class RecordedRequest:
    """A request as received, with the fault it got and the status answered."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    fault: str | None = None
    status: int | None = None

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Reply:
    status: int
    body: object = None  # JSON-able, or bytes sent as they are
    headers: dict = field(default_factory=dict)

    def encoded(self):
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def json_or_none(body, expected_type):
    """Parsed body when it is JSON of ``expected_type``, else an empty one."""
    try:
        value = json.loads(body) if body else None
    except ValueError:
        value = None
    return value if isinstance(value, expected_type) else expected_type()
