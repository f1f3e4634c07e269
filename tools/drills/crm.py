"""Drill (d): the CRM down for minutes, then back; every message must end delivered once.

A signed-webhook ``crm.sync.backend`` points at ``crm_sync_connector/tests/fake_crm_server.py``
running as a process of its own (``fake_crm_process.py``, which journals what it
receives).  ``--tenants`` tenants get a subscription on the demo plan (account
updates delivered while the CRM is up), then the CRM process is stopped, and
while it is down: two rounds of ``seats_changed`` lifecycle events through the
API (account updates, coalesced per tenant) and current-month usage above the
plan's allowance followed by the threshold cron (alerts).  After
``--down-seconds`` the CRM process is started again on the same port and the
drill waits, without touching anything, until no message is pending.  A message
that ran out of attempts (``--max-attempts``) is dead: it is then replayed with
``action_replay``, as an operator would, and the drill waits again.

Verdict: every message done; every delivery received exactly once (one journal
line per ``Idempotency-Key``); the last update each tenant's CRM record got
carries its final seats (``mrr`` = seats x 99, the demo plan's fee); each alert
(tenant, metric, threshold, period) received once.
"""

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import bench_ingest
import usage_client

from . import fake_crm_process

PREFIX = "drill-crm-"
FEE = 99.0  # growth-monthly's fee per seat and month (demo data)
HERE = Path(__file__).resolve().parent

SETUP = """
plan = env['usage.plan'].search([('code', '=', 'growth-monthly')], limit=1)
company = plan.company_id
env['crm.sync.backend'].create({{
    'name': 'Drill webhook', 'backend_type': 'webhook', 'base_url': '{url}',
    'company_id': company.id, 'max_attempts': {max_attempts}, 'rate_limit': 50,
    'webhook_secret': '{secret}'}})
partners = env['res.partner'].create([{{'name': 'CRM drill %d' % i}} for i in range({count})])
tenants = env['usage.tenant'].create([
    {{'external_id': '{prefix}%03d' % i, 'partner_id': partner.id, 'company_id': company.id,
      'currency_id': plan.currency_id.id}}
    for i, partner in enumerate(partners)])
env['usage.subscription'].create([
    {{'tenant_id': t.id, 'plan_id': plan.id, 'company_id': company.id, 'seats': 1,
      'start_date': '{anchor}', 'billing_anchor': '{anchor}'}} for t in tenants])
env.cr.commit()
report(len(tenants))
"""
THRESHOLDS = "report(env['crm.sync.threshold.alert']._cron_check_thresholds())\nenv.cr.commit()\n"
REPLAY = """
dead = env['crm.sync.message'].search([('state', '=', 'dead')])
if dead:
    dead.action_replay()
env.cr.commit()
report(len(dead))
"""
ALERT_KEY = ("metric", "threshold", "period_start")
MESSAGES_SQL = "SELECT state, count(*) FROM crm_sync_message GROUP BY state"


class FakeCrm:
    """The fake CRM process: start, stop, start again on the same port."""

    def __init__(self, port, journal):
        self.port, self.journal, self.process = port, Path(journal), None
        self.url = f"http://127.0.0.1:{port}/webhook"

    def start(self):
        script = HERE / "fake_crm_process.py"
        command = [sys.executable, str(script), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--journal", str(self.journal)], stdout=subprocess.PIPE, text=True
        )
        self.process.stdout.readline()  # "listening on ...": the port is bound

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def received(self):
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines() if line]


def lifecycle(options, tenants, seats, round_number):
    events = [
        {
            "event_id": f"{PREFIX}seats-{round_number}-{tenant}",
            "tenant": tenant,
            "type": "seats_changed",
            "seats": seats[tenant],
            "effective_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        for tenant in tenants
    ]
    with usage_client.UsageClient(options.server.url, options.key, options.secret) as client:
        client.url = options.server.url + "/usage_billing/v1/subscription_events"
        return client.send(events)


def overuse(options, tenants):
    """storage_gb far above the plan's allowance this month: thresholds 80 % and 100 %."""
    events = bench_ingest.make_events(len(tenants) * 3, PREFIX + "use-")
    for n, event in enumerate(events):
        event.update(tenant=tenants[n % len(tenants)], metric="storage_gb", quantity=500)
    with usage_client.UsageClient(options.server.url, options.key, options.secret) as client:
        return client.send(events)


def wait_settled(server, timeout):
    """Until no message is pending; returns the message counts per state."""
    deadline, counts = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        counts = dict(server.sql(MESSAGES_SQL))
        if counts and not counts.get("pending"):
            return counts
        time.sleep(5)
    return counts


def check(server, crm, seats, backend=None):
    """``backend``: the name of the backend whose messages to check (default: all)."""
    problems, received = [], crm.received()
    keys = Counter(line["idempotency_key"] for line in received)
    twice = [key for key, count in keys.items() if count > 1]
    done = server.sql(
        "SELECT 'crm-sync-' || m.id || '-' || m.revision FROM crm_sync_message m"
        " JOIN crm_sync_backend b ON b.id = m.backend_id"
        " WHERE m.state = 'done' AND (%(backend)s IS NULL OR b.name = %(backend)s)",
        {"backend": backend},
    )
    missing = [key for (key,) in done if key not in keys]
    final = {}
    for line in received:
        if line["event"]["event"] == "account.updated":
            final[line["event"]["tenant"]] = line["event"]["data"]
    stale = sorted(
        tenant
        for tenant, count in seats.items()
        if float(final.get(tenant, {}).get("mrr", -1)) != count * FEE
    )
    alerts = Counter(
        (line["event"]["tenant"], *(line["event"]["data"].get(k) for k in ALERT_KEY))
        for line in received
        if line["event"]["event"] == "account.alert"
    )
    doubled_alerts = [key for key, count in alerts.items() if count > 1]
    for label, items in (
        ("deliveries received more than once", twice),
        ("done messages never received", missing),
        ("tenants whose last update is not their final state", stale),
        ("alerts received more than once", doubled_alerts),
    ):
        if items:
            problems.append(f"{len(items)} {label}: {items[:5]}")
    summary = (
        f"fake CRM journal: {len(received)} deliveries, {len(keys)} distinct keys,"
        f" {sum(alerts.values())} alerts ({len(alerts)} distinct); last update of"
        f" {len(seats) - len(stale)}/{len(seats)} drill tenants carries their final seats"
    )
    return summary, problems


def crm_outage(options):
    server, evidence, problems = options.server, [], []
    crm = FakeCrm(options.crm_port, options.journal)
    crm.journal.unlink(missing_ok=True)
    crm.start()
    try:
        anchor = datetime.now(timezone.utc).replace(day=1).strftime("%F")
        server.shell(
            SETUP.format(
                url=crm.url,
                secret=fake_crm_process.fake.FakeCrmServer.WEBHOOK_SECRET,
                max_attempts=options.max_attempts,
                count=options.tenants,
                prefix=PREFIX,
                anchor=anchor,
            )
        )
        tenants = [f"{PREFIX}{i:03d}" for i in range(options.tenants)]
        evidence.append(f"up: {wait_settled(server, 300)} ({len(crm.received())} received)")
        crm.stop()
        down_at = time.monotonic()
        evidence.append(f"CRM stopped; down for {options.down_seconds} s")
        seats = dict.fromkeys(tenants, 2)
        evidence.append(f"seats round 1: {lifecycle(options, tenants, seats, 1).line()}")
        evidence.append(f"usage over allowance: {overuse(options, tenants).line()}")
        evidence.append(f"alerts fired: {server.shell(THRESHOLDS)}")
        time.sleep(min(30, options.down_seconds / 3))
        seats = {tenant: 3 + i % 4 for i, tenant in enumerate(tenants)}
        evidence.append(f"seats round 2: {lifecycle(options, tenants, seats, 2).line()}")
        evidence.append(f"alerts fired again (must be 0): {server.shell(THRESHOLDS)}")
        time.sleep(max(0, options.down_seconds - (time.monotonic() - down_at)))
        evidence.append(f"while down: {dict(server.sql(MESSAGES_SQL))}")
        crm.start()
        up_at = time.monotonic()
        evidence.append(f"CRM back after {up_at - down_at:.0f} s")
        counts = wait_settled(server, options.timeout)
        evidence.append(f"settled {time.monotonic() - up_at:.0f} s after the restart: {counts}")
        if counts.get("dead"):
            evidence.append(f"dead messages replayed (operator action): {server.shell(REPLAY)}")
            counts = wait_settled(server, options.timeout)
            evidence.append(f"after the replay: {counts}")
        if set(counts) != {"done"}:
            problems.append(f"messages not all delivered: {counts}")
        summary, found = check(server, crm, seats)
        evidence.append(summary)
        problems += found
    finally:
        crm.stop()
    return "\n".join(evidence), problems
