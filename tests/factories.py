"""Factories with traits per state; Dutch fake data.

``CaseFactory`` registers a case through the real service (``register_item``) and walks it
through the real transitions to the state its trait names, so a test that needs "a complaint
acknowledged and awaiting its answer" says ``CaseFactory(acknowledged=True)``::

    CaseFactory()                                   # a complaint by web form, just received
    CaseFactory(in_treatment=True)                  # acknowledged, an officer assigned
    CaseFactory(answered=True, channel="post")      # came as a letter, no e-mail: letters go by post
    CaseFactory(suggestion=True, responded=True)    # a suggestion that got its response
"""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from faker import Faker

from cases.models import Case, CaseState, IntakeChannel, Kind
from cases.workflow.registration import Sender, register_item
from cases.workflow.transitions import case_record_hearing, case_transition, case_waive_hearing
from cms.roles import QUALITY_OFFICERS

fake = Faker("nl_NL")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.django.Password("geheim-wachtwoord-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


def officer(username="kwaliteit"):
    return UserFactory(username=username, role=QUALITY_OFFICERS)


# The road to each state, by kind: the transitions the factory takes, in order.
COMPLAINT_STEPS = {
    CaseState.RECEIVED: [],
    CaseState.ACKNOWLEDGED: ["acknowledge"],
    CaseState.IN_TREATMENT: ["acknowledge", "start_treatment"],
    CaseState.HEARING: ["acknowledge", "start_treatment", "schedule_hearing"],
    CaseState.EXPLAINED: ["acknowledge", "start_treatment", "schedule_hearing", "explain"],
    CaseState.ANSWERED: ["acknowledge", "start_treatment", "schedule_hearing", "explain", "answer"],
    CaseState.CLOSED: ["acknowledge", "start_treatment", "schedule_hearing", "explain", "answer", "close"],
}
SUGGESTION_STEPS = {
    CaseState.RECEIVED: [],
    CaseState.ACKNOWLEDGED: ["acknowledge"],
    CaseState.UNDER_CONSIDERATION: ["acknowledge", "consider"],
    CaseState.RESPONDED: ["acknowledge", "consider", "respond"],
    CaseState.CLOSED: ["acknowledge", "consider", "respond", "close_suggestion"],
}
# A state trait of ``CaseFactory`` per state (``acknowledged=True`` ...).
STATE_TRAITS = {state: factory.Trait(state=state) for state in CaseState.values if state != CaseState.RECEIVED}


def _step_params(step: str, actor) -> dict:
    return {
        "start_treatment": {"officer": actor},
        "consider": {"officer": actor},
        "schedule_hearing": {"on": datetime.date.today()},
        "close": {"outcome": "gegrond"},
        "respond": {"outcome": "adopted"},
    }.get(step, {})


def walk_to(case: Case, state: str, actor) -> Case:
    """Take the real transitions from 'received' to ``state`` (hearing waived where none was held; a hearing
    is held the day it is planned, and its report recorded)."""
    steps = (SUGGESTION_STEPS if case.kind == Kind.SUGGESTION else COMPLAINT_STEPS)[state]
    for step in steps:
        if step == "answer" and not case.hearing_on:
            case_waive_hearing(case_id=case.pk, ground="afgezien", reason="de indiener zag af van horen")
        case = case_transition(case_id=case.pk, name=step, actor=actor, **_step_params(step, actor))
        if step == "schedule_hearing":  # held today, and its report made (Awb 9:10 lid 3)
            case = case_record_hearing(case_id=case.pk, report="De indiener vertelde wat er gebeurde; de medewerker erkende het.", actor=actor)
    case.refresh_from_db()
    return case


class CaseFactory(factory.Factory):
    """A complaint or suggestion, registered and walked to its state through the services."""

    class Meta:
        model = Case

    kind = Kind.COMPLAINT
    state = CaseState.RECEIVED
    channel = IntakeChannel.WEB
    received_on = factory.LazyFunction(datetime.date.today)
    subject = "Klacht over de wachttijd"
    text = factory.LazyFunction(lambda: fake.paragraph(nb_sentences=4))
    name = factory.LazyFunction(fake.name)
    email = factory.LazyFunction(fake.email)
    address = factory.LazyFunction(fake.address)
    actor = None

    class Params:
        suggestion = factory.Trait(kind=Kind.SUGGESTION, subject="Suggestie")
        # Came as a letter and the citizen has no e-mail address: every letter goes by post.
        by_post = factory.Trait(channel=IntakeChannel.LETTER, email="")
        acknowledged = STATE_TRAITS[CaseState.ACKNOWLEDGED]
        in_treatment = STATE_TRAITS[CaseState.IN_TREATMENT]
        hearing = STATE_TRAITS[CaseState.HEARING]
        explained = STATE_TRAITS[CaseState.EXPLAINED]
        answered = STATE_TRAITS[CaseState.ANSWERED]
        under_consideration = STATE_TRAITS[CaseState.UNDER_CONSIDERATION]
        responded = STATE_TRAITS[CaseState.RESPONDED]
        closed = STATE_TRAITS[CaseState.CLOSED]

    @classmethod
    def _create(cls, model_class, *, kind, state, channel, received_on, subject, text, name, email, address, actor):
        if channel == "post":
            channel, email = IntakeChannel.LETTER, ""
        registration, _ = register_item(
            channel=channel,
            kind=kind,
            text=text,
            subject=subject,
            sender=Sender(name=name, email=email, address=address),
            received_on=received_on,
        )
        return walk_to(registration.case, state, actor or officer())

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("A case only exists once it is registered: use CaseFactory() (create), not build().")


def duplicate_of(case: Case, **kwargs) -> Case:
    """A second case from the same citizen (same name and e-mail address): what may be merged."""
    return CaseFactory(name=case.registration.sender_name, email=case.registration.sender_email, **kwargs)


def make_case(*, state="received", kind="complaint", received_on=None, channel="web", email=None, text=None, actor=None):
    """Register a case through the real service and walk it to ``state`` (``CaseFactory`` with keywords)."""
    fields = {"state": state, "kind": kind, "channel": channel, "actor": actor}
    if received_on is not None:
        fields["received_on"] = received_on
    if email is not None:
        fields["email"] = email
    if text is not None:
        fields["text"] = text
    return CaseFactory(**fields)
