from django.urls import path

from cases.views import public

app_name = "cases"
urlpatterns = [
    path("zaak/<str:token>/", public.case_status, name="case_status"),
]
