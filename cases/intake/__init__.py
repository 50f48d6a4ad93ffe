"""Intake adapters: web form, e-mail (anymail webhook and .eml import), letters, phone and counter.

All of them register through ``cases.workflow.registration.register_item``.
"""
