"""The second-factor pages: enter a code or use a passkey, set up an app, recovery codes, overview."""

from __future__ import annotations

import base64
from io import BytesIO
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp_webauthn.models import WebAuthnCredential

from accounts import second_factor
from accounts.second_factor import is_enrolled, session_is_two_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="De zes cijfers uit uw authenticator-app, of een van uw herstelcodes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


def next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("wagtailadmin_home")


def _go(name: str, then: str):
    return redirect(f"{reverse(name)}?{urlencode({'next': then})}")


def _page(request, template: str, context: dict, status: int = 200):
    return render(request, f"accounts/{template}", {"next": next_url(request), **context}, status=status)


@never_cache
@login_required
def verify(request):
    """After the password: the app code, a recovery code, or a passkey."""
    if session_is_two_factor(request):
        return redirect(next_url(request))
    if not is_enrolled(request.user):
        return _go("accounts:setup", next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor.verify_code(request, form.cleaned_data["code"]):
            return redirect(next_url(request))
        form.add_error("code", "Deze code klopt niet of is al gebruikt. Probeer de nieuwe code uit uw app; na een paar foute pogingen moet u even wachten.")
    has_passkey = WebAuthnCredential.objects.filter(user=request.user, confirmed=True).exists()
    return _page(request, "verify.html", {"form": form, "has_passkey": has_passkey}, status=400 if form.errors else 200)


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@never_cache
@login_required
def setup(request):
    """Set up an authenticator app (or a passkey). Someone already enrolled first proves an existing factor,
    so a stolen password cannot add a device."""
    if is_enrolled(request.user) and not session_is_two_factor(request):
        return _go("accounts:verify", reverse("accounts:setup"))
    device = second_factor.pending_app(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor.confirm_app(request, device, form.cleaned_data["code"]):
            return _show_recovery_codes(request)
        form.add_error("code", "Deze code klopt niet. Controleer of de tijd op uw telefoon goed staat en typ de code die nu in de app staat.")
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "qr": _qr_data_uri(device.config_url),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "enrolled": is_enrolled(request.user),
    }
    return _page(request, "setup.html", context, status=400 if form.is_bound and form.errors else 200)


def _show_recovery_codes(request):
    codes = second_factor.new_recovery_codes(request.user)
    return _page(request, "recovery_codes.html", {"codes": codes})


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    """New recovery codes (the old ones stop working); only in a two-factor session."""
    if not session_is_two_factor(request):
        return _go("accounts:verify", reverse("accounts:overview"))
    return _show_recovery_codes(request)


@never_cache
@login_required
def overview(request):
    """The staff member's own second factors: app, passkeys, how many recovery codes are left."""
    if not session_is_two_factor(request):
        return _go("accounts:verify", reverse("accounts:overview"))
    devices = [device for device in devices_for_user(request.user, confirmed=True) if device.name != second_factor.RECOVERY_DEVICE_NAME]
    context = {"devices": devices, "recovery_left": second_factor.recovery_codes_left(request.user)}
    return _page(request, "overview.html", context)


@never_cache
@login_required
@require_POST
def passkey_added(request):
    """The passkey script registered a credential: give recovery codes if the user has none yet."""
    if not session_is_two_factor(request):
        return redirect(reverse("accounts:verify"))
    if second_factor.recovery_codes_left(request.user):
        messages.success(request, "Uw passkey is toegevoegd.")
        return redirect(next_url(request))
    return _show_recovery_codes(request)
