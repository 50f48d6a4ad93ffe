"""Intake adapters: web form, e-mail (anymail webhook and .eml import), letters, phone and counter.

All of them register through ``cases.services.registration.register_item``.
"""
