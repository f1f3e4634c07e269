from . import usage_subscription_change_wizard
