from . import semantic_description_wizard
