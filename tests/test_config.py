import logging
import re

import pytest

from config import env as env_module
from tests.conftest import ROOT


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    assert set(env_module.REGISTRY) <= documented


def test_the_reference_command_prints_a_row_for_every_variable(capsys):
    """``python -m config.env_reference`` prints the table the README carries: one row per registered variable."""
    from config.env_reference import main

    assert main([]) == 0
    printed = set(re.findall(r"^\| `([A-Z_]+)` \|", capsys.readouterr().out, flags=re.M))
    assert printed and printed == set(env_module.REGISTRY)


def test_invalid_boolean_in_environment_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HANDVEST_TEST_FLAG", "perhaps")
    with pytest.raises(RuntimeError, match="HANDVEST_TEST_FLAG='perhaps' is invalid"):
        env_module.env("HANDVEST_TEST_FLAG", False, "test only")
    env_module.REGISTRY.pop("HANDVEST_TEST_FLAG")


def test_list_values_are_split_on_commas(monkeypatch):
    monkeypatch.setenv("HANDVEST_TEST_LIST", "a, b,,c")
    assert env_module.env("HANDVEST_TEST_LIST", [], "test only") == ["a", "b", "c"]
    env_module.REGISTRY.pop("HANDVEST_TEST_LIST")


@pytest.mark.django_db
def test_eager_mode_registers_a_complaint_without_a_kombu_warning(client, municipality, settings, caplog, django_capture_on_commit_callbacks):
    settings.HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = 0
    assert client.get("/melding/").status_code == 200
    data = {"kind": "complaint", "description": "De balie was dicht.", "name": "Piet", "email": "piet@example.nl"}
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.post("/melding/", data).status_code == 302
    assert callbacks  # the acknowledgement and the aggregates ran on the eager queue
    assert [record.getMessage() for record in caplog.records if record.name.startswith("kombu")] == []
