from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.verify, name="verify"),
    path("instellen/", views.setup, name="setup"),
    path("overzicht/", views.overview, name="overview"),
    path("herstelcodes/", views.recovery_codes, name="recovery_codes"),
    path("passkey-toegevoegd/", views.passkey_added, name="passkey_added"),
]
