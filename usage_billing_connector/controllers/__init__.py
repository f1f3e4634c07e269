from . import usage_api
from . import read_api
from . import overview_breadcrumbs
