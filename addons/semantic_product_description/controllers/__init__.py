from . import semantic_product_description
from . import chatwoot
