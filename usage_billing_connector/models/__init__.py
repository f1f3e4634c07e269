from . import (
    res_config_settings,
    secrets_config,
    usage_api_key,
    usage_event,
    usage_ingest_log,
    usage_metric,
    usage_rate_counter,
    usage_tenant,
)
