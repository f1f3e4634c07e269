"""Typed access to the addon's settings (``ir.config_parameter``)."""

DEFAULTS = {
    "signature_tolerance": 300,
    "max_events": 1000,
    "max_body_bytes": 5 * 1024 * 1024,
    "rate_limit": 1200,
    "log_retention_days": 90,
    "require_approval": True,
    "late_usage_policy": "next_statement",
    "billing_batch_size": 200,
    "retention_months": 0,
}


#: Smallest value that keeps the API usable (a parameter edited below it in the
#: technical menu falls back to the default; the Settings form refuses it).
MINIMUMS = {
    "signature_tolerance": 1,
    "max_events": 1,
    "max_body_bytes": 256,
    "rate_limit": 0,
    "log_retention_days": 1,
    "retention_months": 0,
}


def get_int_param(env, name):
    # sudo: settings are read by the public ingestion endpoint, which has no user.
    value = env["ir.config_parameter"].sudo().get_param(f"usage_billing.{name}")
    try:
        # get_param answers False for a missing parameter, and int(False) is 0.
        number = int(value) if value not in (False, None, "") else DEFAULTS[name]
    except ValueError:
        return DEFAULTS[name]
    return number if number >= MINIMUMS.get(name, number) else DEFAULTS[name]


def get_bool_param(env, name):
    # sudo: read by crons and by the public endpoint, which have no accounting rights.
    value = env["ir.config_parameter"].sudo().get_param(f"usage_billing.{name}")
    if value in (False, None, ""):
        return DEFAULTS[name]
    return str(value).lower() in ("1", "true", "yes")


def get_param(env, name):
    # sudo: see get_bool_param.
    return env["ir.config_parameter"].sudo().get_param(f"usage_billing.{name}") or DEFAULTS[name]
