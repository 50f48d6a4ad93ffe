"""Everything ``cases`` adds to the Wagtail admin and to the charter page, in one place.

The views live in ``cases.workspace`` (officers, mailroom, editors) and ``cases.public``; this
file only registers them: admin URLs, menu items, the norm editor's links and figures panel,
the triage log actions, and last year's figures on the public charter page.
"""

from django.contrib import messages as records_messages
from django.contrib.auth.models import Permission
from django.shortcuts import redirect as records_redirect
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.panels import FieldPanel
from wagtail.admin.widgets import Button
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cases.intake.triage import LOG_ACTIONS
from cases.models import ResultType
from cases.permissions import can_handle_cases, can_handle_data_requests, can_review_destruction, can_see_aggregates, can_use_mailroom
from cases.public.charter_figures import add_last_years_figures
from cases.public.charter_report import add_charter_report
from cases.workspace import actions, case_page, compose, conversation, dashboard, files, history, inbox, mailroom, measurements, oral, privacy, revision, triage
from cases.workspace import records as records_views
from cases.workspace.roles import RoleMenuItem
from cms.models import ServiceNorm

WORKSPACE_URLS = [
    path("", inbox.inbox, name="inbox"),
    path("<int:pk>/", case_page.case_detail, name="case"),
    path("<int:pk>/actie/<slug:action>/", actions.case_action, name="case_action"),
    path("bijlage/<int:pk>/", files.attachment_download, name="attachment"),
    path("origineel/<int:pk>/", files.original_download, name="original"),
    path("brief/<int:pk>/pdf/", files.letter_pdf, name="letter_pdf"),
    *compose.urlpatterns,
    *oral.urlpatterns,
    *history.urlpatterns,
]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("zaken/", include((WORKSPACE_URLS, "handvest_workspace"), namespace="handvest_workspace")),
        path("triage/", include((triage.urlpatterns, "handvest_triage"), namespace="handvest_triage")),
        path("postkamer/", include((mailroom.urlpatterns, "handvest_mailroom"), namespace="handvest_mailroom")),
        path("herziening/", include((revision.urlpatterns, "handvest_revision"), namespace="handvest_revision")),
    ]


# --- the menu ----------------------------------------------------------------------------------------
@hooks.register("register_admin_menu_item")
def register_inbox_menu_item():
    return RoleMenuItem(_("Zaken"), reverse("handvest_workspace:inbox"), name="zaken", icon_name="tasks", order=100, check=can_handle_cases)


@hooks.register("register_admin_menu_item")
def register_triage_menu_item():
    return RoleMenuItem(_("Triage"), reverse("handvest_triage:list"), name="triage", icon_name="clipboard-list", order=101, check=can_handle_cases)


class MailroomMenuItem(SubmenuMenuItem):
    def is_shown(self, request) -> bool:
        return can_use_mailroom(request.user)


@hooks.register("register_admin_menu_item")
def register_mailroom_menu_item():
    submenu = Menu(
        items=[
            MenuItem(_("Brief registreren"), reverse("handvest_mailroom:register"), name="brief-registreren", icon_name="upload", order=1),
            MenuItem(_("Printwachtrij"), reverse("handvest_mailroom:print_queue"), name="printwachtrij", icon_name="doc-full-inverse", order=2),
            MenuItem(_("Quarantaine"), reverse("handvest_mailroom:quarantine"), name="quarantaine", icon_name="warning", order=3),
        ]
    )
    return MailroomMenuItem(_("Postkamer"), submenu, name="postkamer", icon_name="mail", order=102)


@hooks.register("register_admin_menu_item")
def register_revision_menu_item():
    return RoleMenuItem(_("Herziening"), reverse("handvest_revision:dashboard"), name="herziening", icon_name="table", order=220, check=can_see_aggregates)


# --- the norm's editor and the list of norms ---------------------------------------------------------
@hooks.register("register_snippet_action_menu_item")
def register_norm_figures_action(model):
    return revision.NormFiguresMenuItem() if model is ServiceNorm else None


@hooks.register("register_snippet_listing_buttons")
def register_norm_figures_button(snippet, user, next_url=None):
    if isinstance(snippet, ServiceNorm) and can_see_aggregates(user):
        yield Button(_("Cijfers"), reverse("handvest_revision:norm", args=[snippet.pk]), icon_name="table", priority=50)


hooks.register("insert_editor_js", revision.norm_figures_panel_js)


# --- logs and the public charter page ----------------------------------------------------------------
@hooks.register("register_log_actions")
def register_triage_log_actions(actions):
    for action, (label, message) in LOG_ACTIONS.items():
        actions.register_action(action, label, message)


hooks.register("charter_page_context", add_last_years_figures)


# --- measuring the norms (cases.measurements): the officer's upload, editors' attainment, the public report ---


@hooks.register("register_admin_urls")
def register_measurement_urls():
    return [path("metingen/", include((measurements.urlpatterns, "handvest_measurements"), namespace="handvest_measurements"))]


@hooks.register("register_admin_menu_item")
def register_measurements_menu_item():
    return RoleMenuItem(_("Metingen"), reverse("handvest_measurements:overview"), name="metingen", icon_name="table", order=221, check=can_see_aggregates)


hooks.register("charter_report_page_context", add_charter_report)


# --- the dashboard: the officer's and the mailroom's work ------------------------------------------
hooks.register("construct_homepage_panels", dashboard.add_work_panel)


# --- records (retention, destruction, citizens' rights) ---
# The archivist's retention table (a snippet) and destruction lists, a case's archival facts for the
# officer, and citizens' access, rectification and erasure requests (cases.records, cases.workspace.records
# and .privacy). The views check the roles themselves; the menu only hides what a user may not open.

RECORDS_PERMISSIONS = ["review_destruction", "view_destructionlist", "handle_data_requests", "view_datasubjectrequest"]
RESULT_TYPE_IN_USE = _("Dit resultaattype is aan zaken gegeven en kan niet verwijderd worden; pas het aan of voeg een nieuw toe.")


class ResultTypeViewSet(SnippetViewSet):
    """The retention table, edited by the archivist (Archief → Bewaartermijnen)."""

    model = ResultType
    icon = "time"
    menu_label = _("Bewaartermijnen")
    add_to_admin_menu = False
    list_display = ["name", "kind", "selectielijst_item", "verdict", "term_years"]
    list_filter = ["kind", "verdict"]
    ordering = ["kind", "sort_order", "selectielijst_item"]
    panels = [
        FieldPanel("name"),
        FieldPanel("kind"),
        FieldPanel("procestype"),
        FieldPanel("selectielijst_item"),
        FieldPanel("verdict"),
        FieldPanel("term_years"),
        FieldPanel("note"),
        FieldPanel("code"),
        FieldPanel("sort_order"),
    ]


register_snippet(ResultTypeViewSet)


@hooks.register("register_admin_urls")
def register_records_urls():
    return [
        path("archief/", include((records_views.urlpatterns, "handvest_records"), namespace="handvest_records")),
        path("privacy/", include((privacy.urlpatterns, "handvest_privacy"), namespace="handvest_privacy")),
    ]


class ArchiveMenuItem(SubmenuMenuItem):
    def is_shown(self, request) -> bool:
        return can_review_destruction(request.user)


@hooks.register("register_admin_menu_item")
def register_archive_menu_item():
    submenu = Menu(
        items=[
            MenuItem(_("Vernietigingslijsten"), reverse("handvest_records:lists"), name="vernietigingslijsten", icon_name="bin", order=1),
            MenuItem(_("Bewaartermijnen"), reverse("wagtailsnippets_cases_resulttype:list"), name="bewaartermijnen", icon_name="time", order=2),
        ]
    )
    return ArchiveMenuItem(_("Archief"), submenu, name="archief", icon_name="folder-inverse", order=230)


@hooks.register("register_admin_menu_item")
def register_privacy_menu_item():
    return RoleMenuItem(
        _("Privacyverzoeken"), reverse("handvest_privacy:search"), name="privacyverzoeken", icon_name="user", order=105, check=can_handle_data_requests
    )


@hooks.register("before_delete_snippet")
def refuse_to_delete_result_types_in_use(request, instances):
    """A result type given to cases stays (the records point at it); the archivist changes it instead."""
    if any(isinstance(instance, ResultType) and instance.records.exists() for instance in instances):
        records_messages.error(request, RESULT_TYPE_IN_USE)
        return records_redirect("wagtailsnippets_cases_resulttype:list")
    return None


@hooks.register("register_permissions")
def register_records_permissions():
    """The archivist's and the data-request permissions, grantable to any group in Wagtail (Instellingen → Groepen)."""
    return Permission.objects.filter(content_type__app_label="cases", codename__in=RECORDS_PERMISSIONS)


# --- the conversation with the citizen (cases.workspace.conversation) ---------------------------------
@hooks.register("register_admin_urls")
def register_conversation_urls():
    return [path("gesprekken/", include((conversation.urlpatterns, "handvest_conversation"), namespace="handvest_conversation"))]


@hooks.register("register_admin_menu_item")
def register_conversation_menu_item():
    return RoleMenuItem(_("Gesprekken"), reverse("handvest_conversation:queue"), name="gesprekken", icon_name="comment", order=103, check=can_handle_cases)
