#!/usr/bin/env python3
"""Reference client of the usage ingestion API, and a CLI to send a file of events.

The wire contract (``POST /usage_billing/v1/events``, HMAC signature headers,
per-event results) is the addon's; this module shows how a product platform
should talk to it:

* batches of at most ``batch_size`` events (the server refuses more than its
  ``max_events`` setting, 1,000 by default);
* every attempt is signed with a fresh timestamp, because the server refuses
  signatures older than its tolerance and a retry may come minutes later; the
  body stays byte-identical, so the event ids are the same and the server's
  idempotency turns a retry of a batch that was in fact stored into duplicates;
* 429 (honouring ``Retry-After``), 5xx, dropped connections and timeouts are
  retried with exponential backoff and jitter, and so is a 404 that is not the
  API's JSON error (Odoo serving the request without its database, e.g. while
  PostgreSQL restarts); any other 4xx is a permanent answer about this batch
  and is never retried.

CLI::

    USAGE_SECRET=... python3 tools/usage_client.py --url http://localhost:8069 \\
        --key demo-key events.jsonl
    USAGE_SECRET=... python3 tools/usage_client.py --url ... --key demo-key --usage acme
    (also --entitlements TENANT, --invoices TENANT [--limit N] [--starting-after NUMBER])

Reads (``usage``, ``entitlements``, ``invoices``) are signed GETs, over
``"<t>.GET <path?query>"``, retried like the batches.

The secret is read from an environment variable (``--secret-env``, default
``USAGE_SECRET``), never from the command line, where ``ps`` would show it.

This module is the client and the CLI; ``usage_answers`` (what to retry),
``usage_batches`` (the exact bytes sent), ``usage_summary`` (the counts) and
``usage_files`` (JSON lines and CSV input) are its parts.
"""

import argparse
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import addon_packages  # noqa: E402

# The addon's plain-Python core, without Odoo: the client signs exactly like the
# server verifies.
addon_packages.register()

# The client's parts, one concept a module (answers, request bodies, input files,
# summary); ApiError, Summary and encode_body stay importable from here.
from usage_answers import (  # noqa: E402
    TRANSPORT_ERRORS,
    ApiError,
    Permanent,
    Transient,
    raise_for_status,
)
from usage_batches import chunks, encode_body  # noqa: E402
from usage_files import (  # noqa: E402
    InputError,
    detect_format,
    read_events,
    sniff,
)
from usage_summary import Summary, add_counts, batch_error  # noqa: E402

from usage_billing_connector.core.signing import sign_header  # noqa: E402

EVENTS_PATH = "/usage_billing/v1/events"


class UsageClient:
    """Send usage events to one Odoo database with one API key.

    Not thread-safe (one ``requests.Session``): give each thread its own client.
    ``sleep`` is injectable so that tests can record the delays instead of waiting.
    """

    def __init__(
        self,
        base_url,
        key_id,
        secret,
        *,
        batch_size=1000,
        max_retries=8,
        timeout=(5, 60),
        session=None,
        sleep=time.sleep,
        backoff_base=0.5,
        backoff_max=30.0,
        max_retry_after=300.0,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + EVENTS_PATH
        self.key_id = key_id
        self.secret = secret
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.timeout = timeout
        self.session = session or requests.Session()
        self.sleep = sleep
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._random = random.Random()

    # ------------------------------------------------------------------ public

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def send(self, events):
        """Send every event of ``events`` (any iterable of dicts); return a ``Summary``.

        A batch refused with a permanent 4xx is recorded and the next batches
        are still sent: they are independent.  A batch that still fails after
        ``max_retries`` retries means the server is unreachable or failing; the
        remaining batches are then counted as failed without being sent, rather
        than each waiting through the same backoff.
        """
        summary = Summary()
        batches = chunks(events, self.batch_size)
        for number, batch in enumerate(batches, 1):
            if not self._send_batch(number, batch, summary):
                skipped = sum(1 for _ in batches)
                if skipped:
                    summary.failed_batches += skipped
                    summary.errors.append(
                        {
                            "batch": None,
                            "status": None,
                            "code": "not_sent",
                            "message": f"{skipped} later batch(es) not sent: the server "
                            "kept failing",
                        }
                    )
                break
        return summary

    def usage(self, tenant, period=None):
        """Usage so far of ``tenant`` (``period``: current, previous or an RFC 3339 instant)."""
        query = f"?period={quote(period, safe='')}" if period else ""
        return self._read(f"{_tenant_path(tenant)}/usage{query}")

    def entitlements(self, tenant):
        """What ``tenant`` may use now: ``allowed`` is false at a hard limit."""
        return self._read(f"{_tenant_path(tenant)}/entitlements")

    def invoices(self, tenant, limit=None, starting_after=None):
        """One page of ``tenant``'s posted invoices, newest first (``has_more``: another page)."""
        params = {"limit": limit, "starting_after": starting_after}
        query = urlencode({name: value for name, value in params.items() if value is not None})
        return self._read(f"{_tenant_path(tenant)}/invoices" + (f"?{query}" if query else ""))

    # --------------------------------------------------------------- internals

    def _read(self, target):
        """A signed GET of ``target`` (path and query), retried like a batch; its JSON."""
        for attempt in range(self.max_retries + 1):
            try:
                return self._get(target)
            except Transient as exc:
                if attempt == self.max_retries:
                    raise ApiError(exc.message, exc.status, exc.code) from None
                self.sleep(self._delay(attempt, exc.retry_after))
        return None  # pragma: no cover - the loop always returns or raises

    def _get(self, target):
        signed = f"GET {target}".encode()
        headers = {
            "X-Usage-Key": self.key_id,
            "X-Usage-Signature": sign_header(self.secret, int(time.time()), signed),
        }
        try:
            response = self.session.get(
                self.base_url + target, headers=headers, timeout=self.timeout
            )
        except TRANSPORT_ERRORS as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from None
        raise_for_status(response, ApiError)
        try:
            return response.json()
        except ValueError:
            raise ApiError("HTTP 200 with a body that is not JSON", status=200) from None

    def _send_batch(self, number, batch, summary):
        """One batch with its retries; False when the retries ran out."""
        body = encode_body(batch)
        # One request id for every attempt: the server logs tie the retries together.
        request_id = str(uuid.uuid4())
        for attempt in range(self.max_retries + 1):
            if attempt:
                summary.retries += 1
            summary.requests += 1
            try:
                payload = self._post(body, request_id)
            except Transient as exc:
                if attempt == self.max_retries:
                    summary.failed_batches += 1
                    summary.errors.append(batch_error(number, batch, exc.status, exc.code, exc))
                    return False
                self.sleep(self._delay(attempt, exc.retry_after))
                continue
            except Permanent as exc:
                summary.failed_batches += 1
                summary.errors.append(batch_error(number, batch, exc.status, exc.code, exc))
                return True
            add_counts(summary, payload)
            return True
        return False  # pragma: no cover - the loop always returns

    def _post(self, body, request_id):
        headers = {
            "Content-Type": "application/json",
            "X-Usage-Key": self.key_id,
            "X-Usage-Signature": sign_header(self.secret, int(time.time()), body),
            "X-Request-Id": request_id,
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except TRANSPORT_ERRORS as exc:
            raise Transient(f"{type(exc).__name__}: {exc}") from None
        raise_for_status(response, Permanent)
        try:
            payload = response.json()
        except ValueError:
            raise Permanent("HTTP 200 with a body that is not JSON", status=200) from None
        if not isinstance(payload, dict) or "accepted" not in payload:
            raise Permanent("HTTP 200 without the expected counts", status=200)
        return payload

    def _delay(self, attempt, retry_after):
        """Seconds to wait before retry number ``attempt + 1``.

        ``Retry-After`` wins when the server sends one (it knows when the rate
        window reopens), plus up to a second of jitter so that the clients it
        throttled together do not all come back on the same tick.  Otherwise
        exponential backoff with "equal jitter": half of the step is fixed, half
        random, which spreads the clients without ever retrying immediately.
        """
        if retry_after is not None:
            return min(retry_after, self.max_retry_after) + self._random.uniform(0, 1)
        step = min(self.backoff_max, self.backoff_base * 2**attempt)
        return step / 2 + self._random.uniform(0, step / 2)


def _tenant_path(tenant):
    return f"/usage_billing/v1/tenants/{quote(str(tenant), safe='')}"


# ------------------------------------------------------------------------ CLI


def build_parser():
    parser = argparse.ArgumentParser(
        description="Send usage events (JSON lines or CSV) to the Odoo usage ingestion API.",
        # No abbreviations: "--secret VALUE" must fail, not pass for --secret-env.
        allow_abbrev=False,
    )
    parser.add_argument("--url", required=True, help="Odoo base URL, e.g. http://localhost:8069")
    parser.add_argument("--key", required=True, help="API key id (X-Usage-Key)")
    parser.add_argument(
        "--secret-env",
        default="USAGE_SECRET",
        help="environment variable that holds the key's secret (default: USAGE_SECRET)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="events per request")
    parser.add_argument("--max-retries", type=int, default=8, help="retries per batch")
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        help="default: from the extension (.jsonl, .ndjson, .csv), or the content for stdin",
    )
    reads = parser.add_mutually_exclusive_group()
    reads.add_argument("--usage", metavar="TENANT", help="print TENANT's usage so far (JSON)")
    reads.add_argument("--entitlements", metavar="TENANT", help="print what TENANT may use")
    reads.add_argument("--invoices", metavar="TENANT", help="print a page of TENANT's invoices")
    parser.add_argument("--period", help="with --usage: current, previous or an RFC 3339 instant")
    parser.add_argument("--limit", type=int, help="with --invoices: invoices per page")
    parser.add_argument("--starting-after", help="with --invoices: the last number seen")
    parser.add_argument("file", nargs="?", help="events file to send, '-' for standard input")
    return parser


def _read_command(client, args, stdout, stderr):
    """``--usage``/``--entitlements``/``--invoices``: print the answer; 0, or 1 on an error."""
    try:
        if args.usage:
            answer = client.usage(args.usage, args.period)
        elif args.entitlements:
            answer = client.entitlements(args.entitlements)
        else:
            answer = client.invoices(args.invoices, args.limit, args.starting_after)
    except ApiError as exc:
        print(f"error: {exc.code or ''} {exc.message}".strip(), file=stderr)
        return 1
    print(json.dumps(answer, indent=2, ensure_ascii=False), file=stdout)
    return 0


def main(argv=None, *, session=None, sleep=time.sleep, stdin=None, stdout=None, stderr=None):
    """Exit status: 0 all stored, 1 a batch failed or an event was rejected, 2 bad input."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        print(f"error: environment variable {args.secret_env} is not set", file=stderr)
        return 2
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=stderr)
        return 2
    reading = args.usage or args.entitlements or args.invoices
    if bool(reading) == bool(args.file):
        print(
            "error: give an events file to send, or one of --usage, --entitlements, --invoices",
            file=stderr,
        )
        return 2
    client = UsageClient(
        args.url,
        args.key,
        secret,
        batch_size=args.batch_size,
        max_retries=args.max_retries,
        session=session,
        sleep=sleep,
    )
    if reading:
        return _read_command(client, args, stdout, stderr)
    try:
        if args.file == "-":
            fmt, lines = sniff(stdin, args.format)
            summary = client.send(read_events(lines, fmt, "<stdin>"))
        else:
            fmt = detect_format(args.file, args.format)
            with open(args.file, encoding="utf-8-sig", newline="") as stream:
                summary = client.send(read_events(stream, fmt, args.file))
    except UnicodeDecodeError as exc:
        print(f"error: {args.file} is not UTF-8 text: {exc}", file=stderr)
        return 2
    except (InputError, OSError) as exc:
        # Batches before the bad line were sent; sending the file again once
        # fixed is safe: those events come back as duplicates.
        print(f"error: {exc}", file=stderr)
        return 2
    print(summary.line(), file=stdout)
    for error in summary.errors[:20]:
        print("  " + json.dumps(error, ensure_ascii=False), file=stderr)
    if len(summary.errors) > 20:
        print(f"  ... {len(summary.errors) - 20} more error(s)", file=stderr)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
