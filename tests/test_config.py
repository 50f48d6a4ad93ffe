import re

import pytest

from config import env as env_module
from tests.conftest import ROOT


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    assert set(env_module.REGISTRY) <= documented


def test_invalid_boolean_in_environment_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HANDVEST_TEST_FLAG", "perhaps")
    with pytest.raises(RuntimeError, match="HANDVEST_TEST_FLAG='perhaps' is invalid"):
        env_module.env("HANDVEST_TEST_FLAG", False, "test only")
    env_module.REGISTRY.pop("HANDVEST_TEST_FLAG")


def test_list_values_are_split_on_commas(monkeypatch):
    monkeypatch.setenv("HANDVEST_TEST_LIST", "a, b,,c")
    assert env_module.env("HANDVEST_TEST_LIST", [], "test only") == ["a", "b", "c"]
    env_module.REGISTRY.pop("HANDVEST_TEST_LIST")
