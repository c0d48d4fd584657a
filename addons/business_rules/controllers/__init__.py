from . import business_rules
