from . import usage_subscription_change_wizard
from . import usage_event_compaction_wizard
from . import usage_statement_correction_wizard
