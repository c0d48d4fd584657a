from . import test_semantic_description
from . import test_jobs
from . import test_job_runner
from . import test_search_service
from . import test_controller
from . import test_webhooks
from . import test_ui
from . import test_chatwoot
