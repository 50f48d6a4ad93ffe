"""The citizen's text boxes: a line break counts as one character, as the browser counts it."""

from __future__ import annotations

from django import forms


class TextBox(forms.CharField):
    """A textarea's text with ``\\r\\n`` read as ``\\n``. The browser sends a line break as CR LF but its
    ``maxlength`` counts one character, so a letter in paragraphs that fits the box would otherwise be
    refused as too long by the same limit on the server."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value
