import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import errors
from cases.models import Case, CaseEvent, Registration, TriageState
from cases.workflow.registration import Sender, content_hash, register_item

pytestmark = pytest.mark.django_db


def register(**kwargs):
    defaults = {
        "channel": "email",
        "kind": "complaint",
        "text": "Ik heb drie kwartier gewacht aan de balie.",
        "sender": Sender(name="J. de Vries", email="j@example.nl"),
    }
    defaults.update(kwargs)
    return register_item(**defaults)


def test_number_has_prefix_year_of_receipt_and_six_digits(municipality):
    registration, created = register(received_on=datetime.date(2026, 3, 2))
    assert created
    assert registration.number == "HLG-2026-000001"


def test_numbers_are_gap_free_per_year_and_restart_each_year(municipality):
    numbers = [register(text=f"bericht {i}", received_on=datetime.date(2025, 12, 30))[0].number for i in range(3)]
    assert numbers == ["HLG-2025-000001", "HLG-2025-000002", "HLG-2025-000003"]
    assert register(text="nieuw jaar", received_on=datetime.date(2026, 1, 2))[0].number == "HLG-2026-000001"


def test_the_year_is_that_of_receipt_not_of_registration(municipality):
    letter, _ = register(channel="letter", received_on=datetime.date(2025, 12, 31), text="brief van oudjaar")
    assert letter.number.startswith("HLG-2025-")
    assert letter.registered_at.date() >= datetime.date(2026, 1, 1) or timezone.localdate().year == 2025


def test_a_letter_may_be_received_before_it_is_registered(municipality):
    letter, _ = register(channel="letter", received_on=timezone.localdate() - datetime.timedelta(days=3))
    assert letter.received_on < timezone.localdate()


def test_date_of_receipt_in_the_future_is_refused_and_nothing_is_saved(municipality):
    with pytest.raises(ValidationError) as excinfo:
        register(received_on=timezone.localdate() + datetime.timedelta(days=1))
    assert str(errors.RECEIVED_IN_FUTURE) in str(excinfo.value)
    assert Registration.objects.count() == 0


def test_same_message_id_never_makes_a_second_item(municipality):
    first, created_first = register(message_id="<abc@mail.example>")
    second, created_second = register(message_id="<abc@mail.example>", text="anders")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Registration.objects.count() == 1 and Case.objects.count() == 1


def test_same_content_hash_without_message_id_is_a_duplicate(municipality):
    digest = content_hash("j@example.nl", "klacht", "tekst")
    register(hash_value=digest)
    _, created = register(hash_value=digest)
    assert not created
    assert Registration.objects.count() == 1


def test_complaint_becomes_a_case_with_deadlines_in_working_days(municipality):
    # Thursday 2 April 2026: Good Friday 3/4 and Easter Monday 6/4 are no working days,
    # so the 4 working days are Tue 7, Wed 8, Thu 9 and Fri 10 April.
    registration, _ = register(received_on=datetime.date(2026, 4, 2))
    case = registration.case
    assert case.state == "received"
    assert case.acknowledgement_due == datetime.date(2026, 4, 10)
    assert case.answer_due == datetime.date(2026, 5, 14) + datetime.timedelta(days=1)  # 14 May is Ascension Day
    assert CaseEvent.objects.filter(case=case, kind="registered").count() == 1


def test_other_mail_is_registered_but_waits_in_triage_without_a_case(municipality):
    registration, _ = register(kind="other", text="Graag een afspraak voor een paspoort.")
    assert registration.triage_state == TriageState.PENDING
    assert not Case.objects.filter(registration=registration).exists()


def test_reply_channel_defaults_to_post_without_email(municipality):
    registration, _ = register(sender=Sender(name="A. Bakker", address="Voorstraat 1\n8861 BK Harlingen"))
    assert registration.reply_channel == "post"


def test_phone_callback_gets_a_two_working_day_deadline(municipality):
    registration, _ = register(channel="phone", received_on=datetime.date(2026, 4, 24), callback_requested=True)
    # Friday 24 April 2026 → Monday 27 April is King's Day → Tuesday 28, Wednesday 29.
    assert registration.case.callback_due == datetime.date(2026, 4, 29)


def test_unknown_channel_is_refused(municipality):
    with pytest.raises(ValueError):
        register(channel="fax")
    assert Registration.objects.count() == 0
