from . import business_rule_tag
from . import business_rule
from . import semantic_search_service
