"""Demo data that makes every screen meaningful, dated relative to the install day.

Called by ``demo/usage_billing_demo.xml`` after the demo records.  Usage goes
through the real ingestion (``usage.event._ingest_batch``, the quarantine rules
included) and the real closing, so what the demo shows is what the product does:

* the previous month of acme, globex (USD) and initech (EUR) closed into
  statements: acme's is the documented example (567.00 untaxed), invoiced,
  posted and paid; globex's approved with its draft invoice; initech's waiting
  for approval;
* collections: umbrella's invoice 4 days overdue, in dunning (a reminder sent,
  the earlier one skipped); wayne's 16 days overdue, its subscription suspended
  by dunning (the real dunning run, so the chatter, the dunning log and the
  subscription history show what the product does);
* a correction: wayne disputes its API-call price; its period re-rated at the
  agreed rate is a correction of -25.00 waiting for approval (approved, it
  becomes a credit note reversing part of the invoice);
* usage of the current month for all three (acme beyond its allowances, so the
  CRM threshold alerts fire), quarantined events with different reasons (an
  unmapped tenant, an unknown metric, a timestamp days ahead), and a late event
  of the invoiced month, to be trued up on the next statement;
* prepaid credit: globex bought 250.00 (invoiced on the liability account, paid)
  and got 20.00 of goodwill; its approved statement is paid from the bought
  credit first, its draft invoice shows "Prepaid credit applied" and the
  balance fell below its low-balance threshold; initech holds 50.00 EUR of
  goodwill credit that its statement waiting for approval will use;
* webhooks: the product platform's endpoint (a local address nobody listens on,
  so nothing leaves the machine) receives the events of the above through the
  real outbox; the demo records its answers: every event received but wayne's
  suspension, which failed until its retries ran out (dead, to replay).
"""

import random
from datetime import datetime, timedelta, timezone

from odoo import api, models

from ..core.delivery.http import Attempt, DeliveryResult
from ..utils.outbox_outcome import record_dead, record_delivered

#: The documented example (README, issue): acme's previous month bills 567.00.
ACME_PREVIOUS = {"api_calls": 250_000, "storage_gb": 120, "active_users": 14}
#: Tenants of the collections demo and how many days their invoice is overdue.
COLLECTIONS = {"umbrella": 4, "wayne": 16}
#: Why wayne's invoiced month is corrected (its 50,000 calls beyond the free 10,000).
DISPUTE_REASON = "API calls agreed at 0.0015 (not 0.002) after Wayne's dispute"
#: What the demo endpoint's address answers (nothing listens there).
REFUSED = "ConnectionError: [Errno 111] Connection refused"


class UsageBillingDemo(models.AbstractModel):
    _name = "usage.billing.demo"
    _description = "Usage Billing Demo Data"

    @api.model
    def _populate(self):
        key = self.env.ref("usage_billing_connector.demo_api_key")
        subs = {
            name: self.env.ref(f"usage_billing_connector.demo_subscription_{name}")
            for name in ("acme", "globex", "initech", *COLLECTIONS)
        }
        now = datetime.now(timezone.utc).replace(microsecond=0)
        previous = subs["acme"]._due_periods(now)[0]
        rng = random.Random(19)  # the same demo at every install
        events = []
        events += _previous_month(rng, previous)
        events += _current_month(rng, previous.end, now)
        events += _quarantined(previous.end, now)
        self._ingest(key, events)
        closing = self.env["usage.period.closing"]
        statements = {name: closing._close_subscription(sub)[0] for name, sub in subs.items()}
        self._ingest(key, [_late_event(previous)])
        self._prepaid_credit(now)
        statements["acme"].action_approve()
        statements["globex"].action_approve()  # draws down globex's prepaid credit
        invoice = statements["acme"].invoice_id
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self._collections(statements, now.date())
        self._dispute(statements["wayne"])
        self._webhook_answers()
        return statements

    def _collections(self, statements, today):
        """Unpaid invoices dated back so that the dunning run finds them overdue."""
        for name, overdue_days in COLLECTIONS.items():
            statements[name].action_approve()
            invoice = statements[name].invoice_id
            dated = today - timedelta(days=overdue_days)
            invoice.write({"invoice_date": dated, "invoice_date_due": dated})
            invoice.action_post()
        self.env["usage.dunning"]._run(today)

    def _dispute(self, statement):
        """The real correction of an invoiced period, left for the accountant to approve."""
        agreed = self.env.ref("usage_billing_connector.demo_plan_growth_wayne_agreed")
        return self.env["usage.period.correction"]._correct(statement, DISPUTE_REASON, plan=agreed)

    def _webhook_answers(self):
        """The platform's answers to the events the demo emitted (invoices posted, paid,
        overdue, wayne suspended): all received but the suspension, refused at every try.

        The endpoint's address is local and unreachable, so the answers are recorded
        as the delivery job records them (``utils.outbox_outcome``): the deliveries'
        jobs, when the job runner takes them, find nothing left to send.
        """
        endpoint = self.env.ref("usage_billing_connector.demo_webhook_endpoint")
        deliveries = endpoint.delivery_ids.filtered(lambda d: d.state == "pending").sorted("id")
        suspension = deliveries.filtered(lambda d: d.event_type == "subscription.suspended")
        for number, delivery in enumerate(deliveries - suspension):
            took = 40 + 9 * number  # milliseconds, as a receiver on the LAN answers
            received = Attempt("POST", endpoint.url, 200, took)
            record_delivered(
                delivery, DeliveryResult(ok=True, status=200, duration_ms=took, attempts=[received])
            )
        refused = Attempt("POST", endpoint.url, None, 1, REFUSED)
        record_dead(
            suspension,
            DeliveryResult(ok=False, retryable=True, error=REFUSED, attempts=[refused]),
            tries=endpoint.max_attempts,
        )
        return deliveries

    def _prepaid_credit(self, now):
        """globex bought 250.00 of credit (paid) and got 20.00 of goodwill; initech 50.00 EUR.

        Approving globex's statement then consumes its purchased credit first (it
        expires, the goodwill does not) and crosses its 150.00 low-balance line.
        """
        globex = self.env.ref("usage_billing_connector.demo_tenant_globex")
        initech = self.env.ref("usage_billing_connector.demo_tenant_initech")
        company = globex.company_id
        accounts = self.env["account.account"].with_company(company)

        def account(code, name, account_type):
            found = accounts.search([("code", "=", code)], limit=1)
            return found or accounts.create(
                {"code": code, "name": name, "account_type": account_type}
            )

        company.write(
            {
                "usage_credit_product_id": self.env["product.product"]
                .create({"name": "Prepaid usage credit", "type": "service", "taxes_id": False})
                .id,
                "usage_credit_liability_account_id": account(
                    "212100", "Customer prepaid credit", "liability_current"
                ).id,
                "usage_credit_breakage_account_id": account(
                    "450100", "Expired prepaid credit", "income_other"
                ).id,
                "usage_credit_promo_account_id": account(
                    "443100", "Promotional credit", "expense"
                ).id,
            }
        )
        grants = self.env["usage.credit.grant"]
        bought = grants.create(
            {
                "tenant_id": globex.id,
                "amount": 250.0,
                "expiry_date": (now + timedelta(days=180)).date(),
            }
        )
        bought.action_confirm()
        bought.invoice_id.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bought.invoice_id.ids
        ).create({})._create_payments()
        gifts = grants.create(
            [
                {"tenant_id": globex.id, "kind": "granted", "amount": 20.0, "reason": "Welcome"},
                {
                    "tenant_id": initech.id,
                    "kind": "granted",
                    "amount": 50.0,
                    "reason": "Goodwill after the March outage",
                    "expiry_date": (now + timedelta(days=90)).date(),
                },
            ]
        )
        gifts.action_confirm()
        return bought | gifts

    def _ingest(self, key, events):
        # sudo: as the ingestion endpoint does, in the key's company.
        model = self.env["usage.event"].sudo().with_company(key.company_id)
        for start in range(0, len(events), 1000):
            model._ingest_batch(key, events[start : start + 1000], "demo")


def _at(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _spread(rng, start, end, count):
    """``count`` moments in ``[start, end)``, in time order."""
    seconds = max(int((end - start).total_seconds()) - 1, 1)
    return sorted(start + timedelta(seconds=rng.randrange(seconds)) for _ in range(count))


def _event(event_id, tenant, metric, quantity, moment, **properties):
    event = {
        "event_id": event_id,
        "tenant": tenant,
        "metric": metric,
        "quantity": quantity,
        "timestamp": _at(moment),
    }
    if properties:
        event["properties"] = properties
    return event


def _usage(rng, prefix, tenant, start, end, api_calls, storage, users, calls_count=500):
    """API calls summing to ``api_calls``, storage readings peaking at ``storage``, and
    active-user events over ``users`` distinct users."""
    events = []
    per_call = api_calls // calls_count
    for n, moment in enumerate(_spread(rng, start, end, calls_count)):
        quantity = per_call + (api_calls - per_call * calls_count if n == 0 else 0)
        events.append(_event(f"{prefix}-calls-{n}", tenant, "api_calls", quantity, moment))
    readings = _spread(rng, start, end, 30)
    peak = rng.randrange(len(readings))
    for n, moment in enumerate(readings):
        value = storage if n == peak else rng.randint(max(storage // 3, 1), storage)
        events.append(_event(f"{prefix}-storage-{n}", tenant, "storage_gb", value, moment))
    for n, moment in enumerate(_spread(rng, start, end, users * 3)):
        user = f"{tenant}-user-{n % users}"
        events.append(
            _event(f"{prefix}-users-{n}", tenant, "active_users", 1, moment, user_id=user)
        )
    return events


def _previous_month(rng, period):
    start, end = period.start, period.end
    acme = (ACME_PREVIOUS["api_calls"], ACME_PREVIOUS["storage_gb"], ACME_PREVIOUS["active_users"])
    return (
        _usage(rng, "demo-acme-prev", "acme", start, end, *acme)
        + _usage(rng, "demo-globex-prev", "globex", start, end, 40_000, 8, 6, 300)
        + _usage(rng, "demo-initech-prev", "initech", start, end, 180_000, 64, 16, 400)
        + _usage(rng, "demo-umbrella-prev", "umbrella", start, end, 20_000, 4, 3, 100)
        + _usage(rng, "demo-wayne-prev", "wayne", start, end, 60_000, 10, 5, 100)
    )


def _current_month(rng, start, now):
    end = now - timedelta(minutes=1)
    if end <= start:  # installed in the first minute of a month
        return []
    return (
        _usage(rng, "demo-acme-cur", "acme", start, end, 180_000, 7, 12, 600)
        + _usage(rng, "demo-globex-cur", "globex", start, end, 15_000, 3, 4, 200)
        + _usage(rng, "demo-initech-cur", "initech", start, end, 90_000, 30, 9, 300)
    )


def _quarantined(start, now):
    """Usage the rules hold back, each for another reason."""
    moment = max(start, now - timedelta(hours=2))
    events = [_event(f"demo-hooli-{n}", "hooli", "api_calls", 1000 + n, moment) for n in range(3)]
    events += [_event(f"demo-gpu-{n}", "acme", "gpu_hours", 2, moment) for n in range(2)]
    events.append(_event("demo-future-0", "acme", "api_calls", 10, now + timedelta(days=3)))
    return events


def _late_event(period):
    """Usage of the invoiced month that arrives after its statement: trued up next time."""
    moment = period.start + timedelta(days=20)
    return _event("demo-acme-late-0", "acme", "api_calls", 5000, moment)
