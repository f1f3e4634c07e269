from . import controllers, models, utils, wizards
