"""The citizen's forms on the private page: a reply to a question, consent to wait longer, a satisfaction score.

Uploads use the web form's own rules (``cases.intake.uploads``: at most 5 files of 10 MB, PDF,
JPEG, PNG or DOCX, checked by their bytes); every input is tied to its hint and error.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.conversation import texts
from cases.conversation.questions import MAX_REPLY_CHARS
from cases.intake.text_fields import TextBox
from cases.intake.uploads import MultipleFileField

ACCEPT = ".pdf,.jpg,.jpeg,.png,.docx,application/pdf,image/jpeg,image/png"


class CitizenForm(forms.Form):
    """Each form gets its own ids (several stand on one page), and inputs point at their hint and error."""

    prefix_key = "form"

    def __init__(self, *args, key: str = "", **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.prefix_key}{key}_%s")
        super().__init__(*args, **kwargs)
        self.describe()

    def describe(self) -> None:
        for name, field in self.fields.items():
            bound = self[name]
            ids = [f"{bound.auto_id}_hint"] if field.help_text else []
            if self.is_bound and name in self.errors:
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the summary at the top: each links to its field (a choice: its first option)."""
        summary = []
        for name, field_errors in self.errors.items():
            anchor = ""
            if name in self.fields:
                anchor = self[name].auto_id + ("_0" if isinstance(self.fields[name].widget, forms.RadioSelect) else "")
            summary += [(anchor, message) for message in field_errors]
        return summary


class ReplyForm(CitizenForm):
    """The citizen's answer to a question: text, and attachments under the web form's rules."""

    prefix_key = "reply"
    text = TextBox(
        label=_("Uw antwoord"),
        required=False,
        max_length=MAX_REPLY_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Schrijf in uw eigen woorden. U mag ook alleen een bestand meesturen."),
    )
    attachments = MultipleFileField(
        label=_("Bestanden (niet verplicht)"),
        required=False,
        help_text=_("Ten hoogste 5 bestanden van elk ten hoogste 10 MB: PDF, JPEG, PNG of Word (DOCX)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].widget.attrs["accept"] = ACCEPT

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("text") or "").strip() and not data.get("attachments"):
            self.add_error("text", texts.REPLY_EMPTY)
        return data


class ConsentForm(CitizenForm):
    """Agree or not with waiting longer (Awb 9:11 lid 3)."""

    prefix_key = "consent"
    answer = forms.ChoiceField(
        label=_("Gaat u akkoord met de nieuwe datum?"),
        choices=[("agreed", _("Ja, ik ga akkoord")), ("refused", _("Nee, ik ga niet akkoord"))],
        widget=forms.RadioSelect,
        error_messages={"required": texts.CONSENT_ANSWER_UNKNOWN, "invalid_choice": texts.CONSENT_ANSWER_UNKNOWN},
    )
    note = TextBox(label=_("Wilt u iets toelichten? (niet verplicht)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class SatisfactionForm(CitizenForm):
    """How satisfied the citizen was (1–5), and why."""

    prefix_key = "satisfaction"
    score = forms.TypedChoiceField(
        label=_("Hoe tevreden bent u?"),
        coerce=int,
        choices=[
            (5, _("5 – heel tevreden")),
            (4, _("4 – tevreden")),
            (3, _("3 – niet tevreden, niet ontevreden")),
            (2, _("2 – ontevreden")),
            (1, _("1 – heel ontevreden")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": texts.SATISFACTION_SCORE, "invalid_choice": texts.SATISFACTION_SCORE},
    )
    reason = TextBox(
        label=_("Waarom? (niet verplicht)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Schrijf geen gegevens van anderen op."),
    )
