from . import semantic_search_service
from . import semantic_outbox
from . import product_template
from . import res_config_settings
