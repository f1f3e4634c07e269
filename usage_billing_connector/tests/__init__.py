from . import test_security_groups
from . import test_ingest_events
from . import test_ingest_auth
from . import test_ingest_limits
from . import test_ingest_multicompany
