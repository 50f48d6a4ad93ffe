"""Factories with traits per state; Dutch fake data."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from faker import Faker

from cases.services.registration import Sender, register_item
from cases.services.workflow import case_transition, case_waive_hearing
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


STEPS = {
    "acknowledged": ["acknowledge"],
    "in_treatment": ["acknowledge", "start_treatment"],
    "hearing": ["acknowledge", "start_treatment", "schedule_hearing"],
    "explained": ["acknowledge", "start_treatment", "schedule_hearing", "explain"],
    "answered": ["acknowledge", "start_treatment", "schedule_hearing", "explain", "answer"],
    "closed": ["acknowledge", "start_treatment", "schedule_hearing", "explain", "answer", "close"],
}


def make_case(*, state="received", kind="complaint", received_on=None, channel="web", email=None, text=None, actor=None):
    """Register a case through the real service and walk it to ``state`` (a trait per state)."""
    registration, _ = register_item(
        channel=channel,
        kind=kind,
        text=text or fake.paragraph(nb_sentences=4),
        subject="Klacht over de wachttijd",
        sender=Sender(name=fake.name(), email=fake.email() if email is None else email, address=fake.address()),
        received_on=received_on or datetime.date.today(),
    )
    case = registration.case
    actor = actor or officer()
    params = {
        "start_treatment": {"officer": actor},
        "schedule_hearing": {"on": datetime.date.today()},
        "close": {"outcome": "gegrond"},
    }
    for step in STEPS.get(state, []):
        if step == "answer" and not case.hearing_on:
            case_waive_hearing(case_id=case.pk, reason="afgezien")
        case = case_transition(case_id=case.pk, name=step, actor=actor, **params.get(step, {}))
    case.refresh_from_db()
    return case
