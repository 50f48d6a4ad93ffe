"""Models of ``cases``, split by subdomain; import them from here."""

from cases.models.aggregates import *  # noqa: F403
from cases.models.core import *  # noqa: F403
from cases.models.core import (  # noqa: F401
    ACK_WORKING_DAYS,
    ANSWER_WEEKS,
    CALLBACK_WORKING_DAYS,
    DUE_SOON_WORKING_DAYS,
    HANDLE_PERMISSION,
    MAX_EXTENSION_WEEKS,
    PUBLIC_STATE_TEXT,
    new_public_token,
)
from cases.models.correspondence import *  # noqa: F403
from cases.models.intake import *  # noqa: F403
from cases.models.tagging import *  # noqa: F403
