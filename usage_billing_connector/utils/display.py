"""Figures as people read them, in the user's language (formatting lives in ``core/``)."""

from babel.dates import format_skeleton

from odoo.tools.misc import babel_locale_parse

from ..core.period_label import period_label


def period_labeler(env):
    """``label(start, end)``: ``Nov 1 – Nov 30, 2026`` in ``env``'s language."""
    locale = babel_locale_parse(env.lang or "en_US")

    def format_day(day):
        return format_skeleton("MMMd", day, locale=locale)

    return lambda start, end: period_label(start, end, format_day)


def compute_period_labels(records, start_field="period_start", end_field="period_end"):
    """Fill ``period_label`` of ``records`` from their period bounds."""
    label = period_labeler(records.env)
    for record in records:
        record.period_label = label(record[start_field], record[end_field])
