"""Drill (c): a billing run interrupted half way by SIGKILL, then left to recover.

Setup: ``--subscriptions`` tenants on the demo plan ``growth-monthly``, anchored
on the first day of last month (one ended period each), with usage of last month
sent through the API.  The billing cron is triggered (it enqueues one queue_job
job per subscription on ``root.usage_billing``); while the jobs run, the worker
running one (``queue_job.worker_pid`` of a started job) is killed with SIGKILL,
``--kills`` times.  Nobody intervenes: queue_job 19.0's runner requeues a
started job whose row lock died with its worker (``Database.requeue_dead_jobs``
in ``queue_job/jobrunner/runner.py``, on every loop of the runner, once the job
was enqueued more than 10 s ago; the runner wakes up at least every 60 s).  When
the queue is drained the cron is triggered again.

Verdict: exactly one statement per subscription and period, one for every drill
subscription, every one with lines, every event of the period billed and linked
to its own tenant's statement, no job left failed.
"""

import os
import random
import signal
import time
from datetime import datetime, timedelta, timezone

import bench_ingest
import usage_client

CHANNEL = "root.usage_billing"
PREFIX = "drill-bill-"
CRON = "usage_billing_connector.ir_cron_billing_run"

SETUP = """
plan = env['usage.plan'].search([('code', '=', 'growth-monthly')], limit=1)
company = plan.company_id
partners = env['res.partner'].create([{{'name': 'Billing drill %d' % i}} for i in range({count})])
tenants = env['usage.tenant'].create([
    {{'external_id': '{prefix}%04d' % i, 'partner_id': partner.id, 'company_id': company.id,
      'currency_id': plan.currency_id.id}}
    for i, partner in enumerate(partners)
])
env['usage.subscription'].with_context(tracking_disable=True).create([
    {{'tenant_id': tenant.id, 'plan_id': plan.id, 'company_id': company.id, 'seats': 3,
      'start_date': '{anchor}', 'billing_anchor': '{anchor}'}}
    for tenant in tenants
])
env.cr.commit()
report(len(tenants))
"""
TRIGGER = f"env.ref('{CRON}')._trigger()\nenv.cr.commit()\nreport(True)\n"

JOBS_SQL = f"""
SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed'),
       count(*) FILTER (WHERE state NOT IN ('done', 'failed', 'cancelled')), count(*),
       count(*) FILTER (WHERE retry > 1)
  FROM queue_job WHERE channel = '{CHANNEL}'
"""
CHECKS = {
    "subscription periods with more than one statement": """
        SELECT count(*) FROM (SELECT 1 FROM usage_statement WHERE correction_of_id IS NULL
         GROUP BY subscription_id, period_start HAVING count(*) > 1) d""",
    "drill subscriptions without a statement for last month": """
        SELECT count(*) FROM usage_subscription s JOIN usage_tenant t ON t.id = s.tenant_id
         WHERE t.external_id LIKE %(prefix)s AND NOT EXISTS (SELECT 1 FROM usage_statement st
               WHERE st.subscription_id = s.id AND st.period_start = %(start)s)""",
    "statements without lines": """
        SELECT count(*) FROM usage_statement s
         WHERE NOT EXISTS (SELECT 1 FROM usage_statement_line l WHERE l.statement_id = s.id)""",
    # Billing writes no event: "billed" is read from the statement lines' snapshots.
    "events of last month not billed": """
        SELECT count(*) FROM usage_event e JOIN usage_tenant t ON t.id = e.tenant_id
         WHERE t.external_id LIKE %(prefix)s AND e.occurred_at < %(end)s
           AND e.state = 'accepted' AND NOT EXISTS (
               SELECT 1 FROM usage_statement_line l
                 JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
                WHERE l.tenant_id = e.tenant_id AND l.metric_id = e.metric_id
                  AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
                  AND usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_to))""",
    "events billed by more than one line": """
        SELECT count(*) FROM (
            SELECT e.id FROM usage_event e
              JOIN usage_statement_line l
                ON l.tenant_id = e.tenant_id AND l.metric_id = e.metric_id
               AND l.kind IN ('usage', 'late_usage')
               AND e.occurred_at >= l.period_start AND e.occurred_at < l.period_end
               AND usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_to)
               AND (l.snapshot_from IS NULL
                    OR NOT usage_event_seen(e.accepted_xid, e.accepted_seq, l.snapshot_from))
              JOIN usage_statement s ON s.id = l.statement_id AND s.state != 'rejected'
             GROUP BY e.id HAVING count(*) > 1) d""",
}


def last_month():
    first = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1), first


def send_usage(options, count, start):
    """``--events-per-subscription`` events per tenant in last month, through the API."""
    events = bench_ingest.make_events(count * options.events_per_subscription, PREFIX)
    for n, event in enumerate(events):
        event["tenant"] = f"{PREFIX}{n % count:04d}"
        moment = start + timedelta(minutes=n % 40000)
        event["timestamp"] = moment.isoformat().replace("+00:00", "Z")
    with usage_client.UsageClient(options.server.url, options.key, options.secret) as client:
        return client.send(events)


def run_cron(server, timeout=180):
    """Trigger the billing cron and wait until the cron worker has run it."""
    module, name = CRON.split(".")
    lastcall = (
        "SELECT c.lastcall FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id"
        " AND d.model = 'ir.cron' WHERE d.module = %s AND d.name = %s"
    )
    before = server.sql(lastcall, (module, name))[0][0]
    server.shell(TRIGGER)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.sql(lastcall, (module, name))[0][0] != before:
            return True
        time.sleep(1)
    return False


def jobs(server):
    done, failed, open_, total, retried = server.sql(JOBS_SQL)[0]
    # queue_job counts the first run as retry 1: "run again" is retry > 1.
    return {"done": done, "failed": failed, "open": open_, "total": total, "run_again": retried}


def kill_running_jobs(options, evidence, began):
    server, rng = options.server, random.Random(options.seed)
    marks = sorted(rng.uniform(0.15, 0.7) for _ in range(options.kills))
    deadline = time.monotonic() + options.timeout
    while marks and time.monotonic() < deadline:
        state = jobs(server)
        if state["total"] and state["done"] >= marks[0] * state["total"]:
            running = server.sql(
                "SELECT uuid, worker_pid FROM queue_job WHERE channel = %s AND state = 'started'"
                " AND worker_pid IS NOT NULL",
                (CHANNEL,),
            )
            if running:
                uuid, pid = running[0]
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                marks.pop(0)
                evidence.append(
                    f"+{time.monotonic() - began:.0f} s: SIGKILL worker {pid} running job {uuid}"
                    f" ({state})"
                )
                continue
        time.sleep(0.02)


def wait_drained(server, timeout):
    deadline, state = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        state = jobs(server)
        if state["total"] and not state["open"]:
            return state, True
        time.sleep(2)
    return state, False


def billing_run(options):
    server, evidence = options.server, []
    start, end = last_month()
    count = options.subscriptions
    created = server.shell(SETUP.format(count=count, prefix=PREFIX, anchor=start.strftime("%F")))
    summary = send_usage(options, count, start)
    evidence.append(f"{created} subscriptions created; usage sent: {summary.line()}")
    began = time.monotonic()
    server.shell(TRIGGER)  # the kills start as soon as the first jobs run
    kill_running_jobs(options, evidence, began)
    state, drained = wait_drained(server, options.timeout)
    evidence.append(f"queue drained={drained} after {time.monotonic() - began:.0f} s: {state}")
    evidence += [
        line[:19] + line[line.index(" WARNING") :] for line in server.log_lines("Re-queued")
    ]
    ran = run_cron(server)  # enqueues nothing: every period has its statement
    after, _drained = wait_drained(server, 120)
    evidence.append(f"after the second cron run (ran={ran}): {after}")
    problems = [] if drained and ran else ["the job queue did not drain or the cron did not run"]
    if summary.failed_batches or summary.rejected:
        problems.append("usage was not all stored")
    if after["total"] != state["total"]:
        problems.append(f"the second run enqueued {after['total'] - state['total']} job(s)")
    if state["failed"]:
        problems.append(f"{state['failed']} billing job(s) failed")
    if sum("SIGKILL" in line for line in evidence) < options.kills:
        problems.append("not every kill found a running job")
    params = {
        "start": start.replace(tzinfo=None),
        "end": end.replace(tzinfo=None),
        "prefix": PREFIX + "%",
    }
    for label, sql in CHECKS.items():
        value = server.sql(sql, params)[0][0]
        evidence.append(f"{label}: {value}")
        if value:
            problems.append(f"{label}: {value}")
    statements = server.sql(
        "SELECT count(*), count(DISTINCT subscription_id) FROM usage_statement s"
        " JOIN usage_tenant t ON t.id = s.tenant_id WHERE t.external_id LIKE %s",
        (PREFIX + "%",),
    )[0]
    evidence.append(f"drill statements: {statements[0]} for {statements[1]} subscriptions")
    if statements != (count, count):
        problems.append(f"expected {count} statements for {count} subscriptions: {statements}")
    return "\n".join(evidence), problems
