from . import product_template
from . import website
