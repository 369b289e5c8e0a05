"""A person's own pages that need the desk's configuration: help (the web chats to try),
availability (becoming available drains the assignment queue) and notification preferences.

They were in ``helpdesk.views``; they live here because the core may not import the apps above
it. Their URL names (``help``, ``set_availability``, ``preferences``) are unchanged."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from admin_config.forms_users import NotificationPreferencesForm
from admin_config.users import Refused, user_set_availability
from deskconfig.accounts import ChannelAccount
from helpdesk.http import AuthedRequest, tenant_user_required
from helpdesk.middleware import LANGUAGE_COOKIE
from helpdesk.views import safe_next


@tenant_user_required
def help_page(request: AuthedRequest) -> HttpResponse:
    chats = ChannelAccount.objects.filter(kind="webchat", active=True).order_by("name")
    return render(request, "helpdesk/help.html", {"page": "help", "chats": chats})


@require_POST
@tenant_user_required
def set_availability(request: AuthedRequest) -> HttpResponse:
    """Available / Away from the user menu. Becoming available drains the queue (issue 6)."""
    try:
        request.user = user_set_availability(
            user=request.user, availability=request.POST.get("availability", "")
        )
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(safe_next(request))


@tenant_user_required
def preferences(request: AuthedRequest) -> HttpResponse:
    """My notification emails and my language."""
    form = NotificationPreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        response = redirect("preferences")
        language = form.cleaned_data["language"]
        if language:
            # The page after the redirect speaks the new language right away.
            response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax")
        with translation.override(language or request.tenant.language):
            messages.success(request, _("Preferencias guardadas."))
        return response
    return render(request, "helpdesk/preferences.html", {"page": "preferences", "form": form})
