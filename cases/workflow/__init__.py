"""The case workflow: registration numbers, states and transitions (django-fsm-2), deadlines in
Dutch working days, and handling a case (assignment, notes, merging).

| module | holds |
| --- | --- |
| ``registration`` | registering an item once: number, date of receipt, the case of a complaint or suggestion |
| ``transitions`` | every step on a case: lock, check, transition, log; the extension and the waived hearing |
| ``handling`` | assignment, internal notes, merging a duplicate |
| ``deadlines`` | the terms of Awb 9 and the charter, and what "soon" and "overdue" mean |
| ``deadline_scan`` | which cases need the officers' attention today |
| ``calendar`` | Dutch working days (Algemene termijnenwet) |
| ``state_diagram`` | the workflow as a Mermaid diagram |
"""
