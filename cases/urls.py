from django.urls import path

from cases.conversation import views as conversation
from cases.public import privacy, status

app_name = "cases"
urlpatterns = [
    path("privacy/", privacy.privacy_statement, name="privacy"),
    path("zaak/<str:token>/", status.case_status, name="case_status"),
    path("zaak/<str:token>/brief/<int:pk>/", status.letter_pdf, name="case_letter"),
    # The conversation with the citizen (cases.conversation): answers given on the private page.
    path("zaak/<str:token>/vraag/<int:pk>/", conversation.question_reply, name="question_reply"),
    path("zaak/<str:token>/uitstel/<int:pk>/", conversation.consent_reply, name="consent_reply"),
    path("zaak/<str:token>/tevredenheid/", conversation.satisfaction_reply, name="satisfaction_reply"),
]
