"""The case workflow as a Mermaid state diagram, read from the django-fsm-2 transitions on ``Case``."""

from cases.models import Case


def mermaid_state_diagram() -> str:
    field = Case._meta.get_field("state")
    edges = sorted({(t.source, t.target, t.name) for t in field.get_all_transitions(Case) if t.source != "*"})
    lines = ["stateDiagram-v2", "    [*] --> received: register"]
    for source, target, name in edges:
        lines.append(f"    {source} --> {target}: {name}")
    lines.append("    closed --> [*]")
    return "\n".join(lines)
