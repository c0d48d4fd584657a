from . import test_shop_search
