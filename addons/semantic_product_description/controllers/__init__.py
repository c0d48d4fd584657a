from . import semantic_product_description
