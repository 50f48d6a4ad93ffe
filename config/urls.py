from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

urlpatterns = [
    # The second factor (accounts/) and its passkey endpoints come before Wagtail's admin, which they guard.
    path("beheer/tweestaps/passkey/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("beheer/tweestaps/", include("accounts.urls")),
    path("beheer/", include(wagtailadmin_urls)),
    path("", include("cases.urls")),
    # The citizen's web form, in its own "intake" namespace (cms.models.complaint_form_url reverses it).
    path("", include("cases.intake.webform")),
    # Inbound mail webhooks (Mailgun, Postmark, SendGrid, Amazon SES): /anymail/<esp>/inbound/; ours
    # store the message before anything parses it, anymail's serve the other ESPs and its tracking.
    path("anymail/", include("cases.intake.webhooks")),
    path("anymail/", include("anymail.urls")),
]
if settings.OIDC_RP_CLIENT_ID:
    urlpatterns += [path("oidc/", include("mozilla_django_oidc.urls"))]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

urlpatterns += [path("", include(wagtail_urls))]

# Django's default 500 view renders its page without context; ours adds the municipality's phone number.
handler500 = "config.errors.server_error"
