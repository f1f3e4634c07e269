#!/usr/bin/env python3
"""Throughput of HubSpot deliveries: batched upserts versus one request per tenant.

    python3 tools/bench_crm_sync.py [--tenants 2000] [--latency-ms 0]

Uses the connector's real HubSpot client (``crm_sync_connector/core``) against
the fake CRM server of its tests (``crm_sync_connector/tests/fake_crm_server.py``)
over real local HTTP,
without the client-side rate limiter (it would measure the limit, not the
transport).  ``--latency-ms`` adds a server-side delay per request (``slow``
fault) to approximate a remote CRM.  Not a test: it prints messages/s for

* ``batch``: ``POST /crm/v3/objects/companies/batch/upsert`` with 100 tenants
  per request (what the daily refresh does);
* ``single``: the same endpoint with one tenant per request (what one job per
  message would do).
"""

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_core():
    """Import the addon cores and the fake server without Odoo (as tests/conftest.py does)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import addon_packages  # noqa: PLC0415

    addon_packages.register()
    from crm_sync_connector.core.clients import HubSpotClient  # noqa: PLC0415
    from crm_sync_connector.tests.fake_crm_server import FakeCrmServer  # noqa: PLC0415

    return HubSpotClient, FakeCrmServer


def _accounts(count):
    return [
        {
            "tenant": f"tenant-{index:05d}",
            "properties": {
                "name": f"Customer {index}",
                "usage_plan": "growth",
                "usage_mrr": Decimal("490.00"),
                "usage_health_score": 85,
                "usage_api_calls": Decimal(index * 10),
                "usage_api_calls_pct": Decimal("42.5"),
            },
        }
        for index in range(count)
    ]


def _run(client, accounts, batch):
    started = time.perf_counter()
    if batch:
        result = client.upsert_companies(accounts)  # the client sends 100 per request
        assert result.ok, result.error
    else:
        for account in accounts:
            result = client.upsert_companies([account])
            assert result.ok, result.error
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    hubspot_client, fake_server = _load_core()
    accounts = _accounts(args.tenants)
    print(f"tenants: {args.tenants}, added server latency: {args.latency_ms:g} ms/request")
    results = {}
    for mode in ("batch", "single"):
        with fake_server() as crm:
            requests = args.tenants if mode == "single" else -(-args.tenants // 100)
            if args.latency_ms:
                crm.inject("/crm/v3/", "slow", count=requests, seconds=args.latency_ms / 1000)
            with hubspot_client(crm.url, fake_server.HUBSPOT_TOKEN, rate_limit=None) as client:
                elapsed = _run(client, accounts, batch=(mode == "batch"))
            assert len(crm.hubspot_companies) == args.tenants
            sent = len(crm.requests_to("/crm/v3/objects/companies/batch/upsert"))
        results[mode] = args.tenants / elapsed
        print(f"{mode:>6}: {sent:5d} requests, {elapsed:7.2f} s, {results[mode]:9.0f} messages/s")
    print(f"speed-up of batching: {results['batch'] / results['single']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
