from django.urls import path

from cases.public import status

app_name = "cases"
urlpatterns = [
    path("zaak/<str:token>/", status.case_status, name="case_status"),
    path("zaak/<str:token>/brief/<int:pk>/", status.letter_pdf, name="case_letter"),
]
