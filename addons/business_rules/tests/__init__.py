from . import test_business_rule
from . import test_controller
from . import test_ui
