from datetime import datetime, timedelta, timezone
from decimal import Decimal

from odoo import api, models

from ..core import read_api, utc
from ..core.numbers import to_decimal
from ..exceptions import ReadApiError


class UsageTenant(models.Model):
    """What the product platform can read about one of its tenants (signed GET API)."""

    _inherit = "usage.tenant"

    @api.model
    def _api_tenant(self, api_key, external_id):
        """The tenant of ``api_key``'s company, if the key may read it."""
        # search_fetch: the tenant's fields come with the search (one query less per answer)
        tenant = self.search_fetch(
            [("company_id", "=", api_key.company_id.id), ("external_id", "=", external_id)],
            limit=1,
        )
        if not tenant:
            raise ReadApiError(404, "unknown_tenant", "No tenant with this id for this key.")
        allowed = api_key._allowed_tenant_ids()
        if allowed is not None and tenant.id not in allowed:
            raise ReadApiError(403, "tenant_not_allowed", "This key may not read this tenant.")
        return tenant

    def _api_period(self, query, now):
        """The subscription and the period the query names (``core.read_api.PeriodQuery``)."""
        self.ensure_one()
        instant = query.instant or now
        subscriptions = self.env["usage.subscription"]
        if query.which == "previous":
            current = subscriptions._in_force(self, utc.naive(now))
            if not current:
                raise ReadApiError(404, "no_subscription", "The tenant has no subscription.")
            instant = current._period_containing(now).start - timedelta(seconds=1)
        sub = subscriptions._in_force(self, utc.naive(instant))
        if not sub:
            raise ReadApiError(
                404, "no_subscription", "The tenant had no subscription in force at that time."
            )
        return sub, sub._period_containing(instant)

    def _api_usage(self, query):
        """``GET /tenants/{tenant}/usage``: usage so far, rated like its statement would be."""
        self.ensure_one()
        now = datetime.now(timezone.utc).replace(microsecond=0)
        sub, period = self._api_period(query, now)
        rating = self.env["usage.period.rating"]._rate(
            [(sub, period, False)], snapshot=None, use_rollup=True
        )
        rated = rating[(sub.id, utc.naive(period.start))].lines
        decimals = self.currency_id.decimal_places
        terms = {charge.metric_id: charge for charge in sub.plan_id._charge_terms()}
        metrics, fees = [], []
        for line, _snapshot in rated:
            if not line.metric:
                fees.append(
                    {"name": line.description, "amount": read_api.money_text(line.amount, decimals)}
                )
                continue
            charge = terms.get(line.metric.id)
            metrics.append(
                read_api.metric_answer(
                    self._api_metric(line.metric),
                    line.quantity,
                    charge.included if charge else Decimal(0),
                    charge.soft_limit if charge else None,
                    charge.hard_limit if charge else None,
                    line.amount,
                    decimals,
                )
            )
        total = sum((line.amount for line, _s in rated), Decimal(0))
        # The day of ``as_of`` in UTC, like the expiry cron's: the request has no user
        # whose time zone would say otherwise (and reading one costs a tenth of it).
        balance, expiries = self._credit_summary(today=now.date())[self.id]
        return {
            "tenant": self.external_id,
            "plan": sub.plan_id.code,
            "currency": self.currency_id.name,
            "period_start": read_api.instant_text(period.start),
            "period_end": read_api.instant_text(period.end),
            "as_of": read_api.instant_text(now),
            "metrics": metrics,
            "fees": fees,
            "amount_untaxed": read_api.money_text(total, decimals),
            "credits": read_api.credits_answer(balance, self.currency_id.name, expiries, decimals),
        }

    def _api_metric(self, metric):
        return {
            "code": metric.code,
            "name": metric.name,
            "aggregation": metric.aggregation,
            "unit": metric.uom_id.name or None,
        }

    def _api_entitlements(self):
        """``GET /tenants/{tenant}/entitlements``: what the product may let the tenant use."""
        self.ensure_one()
        now = datetime.now(timezone.utc).replace(microsecond=0)
        answer = {"tenant": self.external_id, "as_of": read_api.instant_text(now)}
        sub = self.env["usage.subscription"]._in_force(self, utc.naive(now))
        if not sub:
            return {**answer, "entitlements": []}
        period = sub._period_containing(now)
        used = self.env["usage.event"]._aggregate_so_far(
            self.id, utc.naive(period.start), utc.naive(period.end)
        )
        terms = sub.plan_id._charge_terms()
        metrics = self.env["usage.metric"].browse([charge.metric_id for charge in terms])
        return {
            **answer,
            "entitlements": [
                read_api.entitlement_answer(
                    metric.code,
                    used.get(metric.id, Decimal(0)),
                    charge.soft_limit,
                    charge.hard_limit,
                )
                for metric, charge in zip(metrics, terms, strict=True)
            ],
        }

    def _api_invoices(self, limit, starting_after):
        """``GET /tenants/{tenant}/invoices``: posted invoices, newest first, by cursor."""
        self.ensure_one()
        moves = self.env["account.move"]
        domain = [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("commercial_partner_id", "=", self.partner_id.commercial_partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        if starting_after:
            cursor = moves.search([*domain, ("name", "=", starting_after)], limit=1)
            if not cursor:
                raise ReadApiError(
                    400, "invalid_cursor", "starting_after is not an invoice of this tenant."
                )
            domain += [
                "|",
                ("invoice_date", "<", cursor.invoice_date),
                "&",
                ("invoice_date", "=", cursor.invoice_date),
                ("id", "<", cursor.id),
            ]
        page = moves.search(domain, order="invoice_date desc, id desc", limit=limit + 1)
        statements = {
            statement.invoice_id: statement
            for statement in self.env["usage.statement"].search(
                [("invoice_id", "in", page[:limit].ids)]
            )
        }
        base_url = self.get_base_url()
        return {
            "data": [
                self._api_invoice(move, statements.get(move), base_url) for move in page[:limit]
            ],
            "has_more": len(page) > limit,
        }

    def _api_invoice(self, move, statement, base_url):
        decimals = move.currency_id.decimal_places
        return {
            "number": move.name,
            "date": move.invoice_date.isoformat() if move.invoice_date else None,
            "due_date": move.invoice_date_due.isoformat() if move.invoice_date_due else None,
            "currency": move.currency_id.name,
            "amount_untaxed": read_api.money_text(to_decimal(move.amount_untaxed), decimals),
            "amount_total": read_api.money_text(to_decimal(move.amount_total), decimals),
            "amount_residual": read_api.money_text(to_decimal(move.amount_residual), decimals),
            "state": move.state,
            "payment_state": move.payment_state,
            "portal_url": base_url + move.get_portal_url(),
            "period_start": read_api.instant_text(statement.period_start) if statement else None,
            "period_end": read_api.instant_text(statement.period_end) if statement else None,
        }
