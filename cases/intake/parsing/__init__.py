"""E-mail as data: ``mime.parse_email`` reads raw bytes once into a ``ParsedEmail`` (with
``decode`` and ``html``); ``rules.read_facts`` says what the message is. No Django models here."""
