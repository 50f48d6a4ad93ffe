import pytest

from cases.mailaddresses import is_automatic_address


@pytest.mark.parametrize(
    "address",
    [
        "noreply@example.nl",
        "no-reply+abc@example.nl",
        "do_not_reply@example.nl",
        "postmaster@harlingen.nl",
        "MAILER-DAEMON@mx.example.nl",
        "mailer.daemon@example.nl",
        "mail-daemon@example.nl",
        "bounces-123@lists.example.nl",
        "noreply.nieuwsbrief@example.nl",
    ],
)
def test_machine_addresses_are_recognised(address):
    assert is_automatic_address(address)


@pytest.mark.parametrize("address", ["jan.devries@example.nl", "info@harlingen.nl", "noreen@example.nl", "postbode@example.nl", ""])
def test_people_are_not_machines(address):
    assert not is_automatic_address(address)
