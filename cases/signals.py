"""Signals that other parts (tagging, correspondence) subscribe to; sent after commit."""

from django.dispatch import Signal

case_registered = Signal()  # kwargs: case_id
case_transitioned = Signal()  # kwargs: case_id, transition, from_state, to_state
