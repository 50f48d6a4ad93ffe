"""Signals that other parts (tagging, correspondence) subscribe to; sent after commit."""

from django.dispatch import Signal

case_registered = Signal()  # kwargs: case_id
case_transitioned = Signal()  # kwargs: case_id, transition, from_state, to_state
# Sent inside the intake's transaction (not after commit), so a reply and its answer are stored together.
citizen_reply_threaded = Signal()  # kwargs: case_id, inbound (the InboundMessage)
