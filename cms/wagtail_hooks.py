"""Wagtail admin registration of the charter's snippets, the Wagtail way (viewsets)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column, LiveStatusTagColumn
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cms.models import NORM_NOT_DELETABLE, NORM_NOT_UNPUBLISHABLE, Charter, ServiceNorm


class InUseColumn(Column):
    """'In gebruik' or 'ingetrokken' in words, not a bare True/False."""

    def get_value(self, instance):
        return _("in gebruik") if instance.active else _("ingetrokken")


class ServiceNormViewSet(SnippetViewSet):
    model = ServiceNorm
    icon = "list-ul"
    menu_label = "Servicenormen"
    menu_order = 200
    add_to_admin_menu = True
    list_display = ["code", "channel", "promise", InUseColumn("active", label=_("Gebruik"), sort_key="active"), LiveStatusTagColumn()]
    list_filter = ["channel", "active", "charter"]
    search_fields = ["code", "promise", "keywords"]
    ordering = ["channel", "sort_order"]


class CharterViewSet(SnippetViewSet):
    model = Charter
    icon = "doc-full"
    menu_label = "Handvesten"
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["title", "year", "key"]


register_snippet(ServiceNormViewSet)
register_snippet(CharterViewSet)


@hooks.register("before_delete_snippet")
def refuse_to_delete_norms(request, instances):
    """Norms are retired, never deleted; even a superuser is sent back to the norm."""
    if any(isinstance(instance, ServiceNorm) for instance in instances):
        messages.error(request, NORM_NOT_DELETABLE)
        return redirect("wagtailsnippets_cms_servicenorm:list")
    return None


@hooks.register("before_unpublish")
def refuse_to_unpublish_norms(request, instance):
    """Unpublishing would take a norm off the charter without a date, from the page, the form, the terms and the
    report alike; a norm leaves the charter by being retired (not in use, with the date), which the loader and
    the figures know."""
    if isinstance(instance, ServiceNorm):
        messages.error(request, NORM_NOT_UNPUBLISHABLE)
        return redirect("wagtailsnippets_cms_servicenorm:edit", instance.pk)
    return None
