"""Models of ``cases``, split by subdomain; import them from here.

| module | holds |
| --- | --- |
| ``registration`` | every incoming item: number, date of receipt, sender, channel, kind |
| ``states`` | the states of both workflows and their named groups, and the citizen's text per state |
| ``case`` | complaints and suggestions: transitions (django-fsm-2) and deadlines |
| ``outcomes`` | how a case ends, and the legal grounds for not handling or not hearing |
| ``events`` | the append-only timeline of a case |
| ``intake`` | raw inbound e-mail and attachments |
| ``correspondence`` | the outbox of letters to citizens, and the daily deadline digest |
| ``tagging`` | norm tags of cases and the tagger's model versions |
| ``aggregates`` | derived tables behind the editors' figures (no personal data) |
| ``measurements`` | measurements of the norms (observations and totals per period) and their imports |
| ``conversation`` | questions to the citizen and replies, consent to wait longer, satisfaction, reopen requests, the ombudsman |
| ``records`` | retention (result types, destruction dates), destruction lists, citizens' data requests |
"""

from cases.models.aggregates import *  # noqa: F403
from cases.models.case import *  # noqa: F403
from cases.models.conversation import *  # noqa: F403
from cases.models.correspondence import *  # noqa: F403
from cases.models.events import *  # noqa: F403
from cases.models.intake import *  # noqa: F403
from cases.models.measurements import *  # noqa: F403
from cases.models.outcomes import *  # noqa: F403
from cases.models.records import *  # noqa: F403
from cases.models.registration import *  # noqa: F403
from cases.models.states import *  # noqa: F403
from cases.models.tagging import *  # noqa: F403
