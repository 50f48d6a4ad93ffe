from cases.workflow.state_diagram import mermaid_state_diagram
from tests.conftest import ROOT


def test_documented_state_diagram_is_generated_from_the_code():
    doc = (ROOT / "docs" / "state-diagram.md").read_text(encoding="utf-8")
    assert mermaid_state_diagram() in doc


def test_diagram_has_every_complaint_transition_of_the_design():
    diagram = mermaid_state_diagram()
    for edge in (
        "received --> acknowledged: acknowledge",
        "acknowledged --> in_treatment: start_treatment",
        "answered --> closed: close",
        "hearing --> explained: explain",
    ):
        assert edge in diagram
