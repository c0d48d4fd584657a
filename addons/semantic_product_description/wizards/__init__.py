from . import semantic_description_wizard
from . import semantic_webhook_secret_wizard
from . import semantic_api_key_wizard
