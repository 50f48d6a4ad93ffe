"""The Wagtail admin views of officers, mailroom and editors (registered in ``cases/wagtail_hooks.py``).

Views are thin: they check the role (``roles``), read a form (``forms``), call a service and turn
what the service refuses into a Dutch message (``actions.run_action``).
"""
