"""«Publicaciones programadas»: write a post for X accounts and Facebook pages, schedule it in
the tenant's time zone, edit or cancel it until it goes, and see what was published (with its
link) and what failed (with the reason and Reintentar). Admins, and agents on the accounts the
assignment matrix gives them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from helpdesk.http import AuthedRequest, role_required
from helpdesk.models import Role
from publishing import services
from publishing.forms import EditPostForm, NewPostForm, SettingsForm
from publishing.models import PublishingSettings
from publishing.queries import post_lists, publishable_accounts, visible_posts
from tickets.models import ScheduledPost
from tickets.services import ActionRefused

publisher_required = role_required(Role.ADMIN, Role.AGENT)


def _post_or_404(request: AuthedRequest, pk: int) -> ScheduledPost:
    post: ScheduledPost = get_object_or_404(visible_posts(request.user), pk=pk)
    return post


def _settings_form(request: AuthedRequest, data: Any = None) -> SettingsForm | None:
    if request.user.role != Role.ADMIN:
        return None
    instance = PublishingSettings.objects.first() or PublishingSettings(tenant=request.tenant)
    return SettingsForm(data, instance=instance)


def _page(request: AuthedRequest, form: NewPostForm, status: int = 200) -> HttpResponse:
    context = {
        "page": "publishing",
        "form": form,
        "lists": post_lists(request.user),
        "settings_form": _settings_form(request),
        "has_accounts": form.fields["accounts"].queryset.exists(),  # type: ignore[attr-defined]
    }
    return render(request, "publishing/posts.html", context, status=status)


@publisher_required
def post_list(request: AuthedRequest) -> HttpResponse:
    accounts = publishable_accounts(request.user)
    if request.method != "POST":
        return _page(request, NewPostForm(accounts=accounts))
    form = NewPostForm(request.POST, request.FILES, accounts=accounts)
    if form.is_valid():
        try:
            posts = services.post_create(
                actor=request.user,
                accounts=list(form.cleaned_data["accounts"]),
                text=form.cleaned_data["text"],
                publish_at=form.cleaned_data["publish_at"],
                image=form.image_value(),
            )
        except ActionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Publicación programada en %(n)s cuenta(s).") % {"n": len(posts)},
            )
            return redirect("publishing:posts")
    return _page(request, form, status=400)


@publisher_required
def post_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    post = _post_or_404(request, pk)
    if request.method == "POST":
        form = EditPostForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.post_update(
                    actor=request.user,
                    post=post,
                    text=form.cleaned_data["text"],
                    publish_at=form.cleaned_data["publish_at"],
                    image=form.image_value(),
                    remove_image=bool(form.cleaned_data.get("remove_image")),
                )
            except ActionRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Publicación actualizada."))
                return redirect("publishing:posts")
    else:
        form = EditPostForm(initial={"text": post.text, "publish_at": post.publish_at})
    return render(
        request,
        "publishing/edit.html",
        {"page": "publishing", "form": form, "post": post},
        status=400 if form.errors else 200,
    )


@publisher_required
@require_POST
def post_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    post = _post_or_404(request, pk)
    try:
        services.post_cancel(actor=request.user, post=post)
        messages.success(request, _("Publicación cancelada."))
    except ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("publishing:posts")


@publisher_required
@require_POST
def post_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    post = _post_or_404(request, pk)
    try:
        services.post_retry(actor=request.user, post=post)
        messages.success(request, _("Se publicará de nuevo en unos segundos."))
    except ActionRefused as exc:
        messages.error(request, exc.message)
    return redirect("publishing:posts")


@role_required(Role.ADMIN)
@require_POST
def settings_save(request: AuthedRequest) -> HttpResponse:
    form = _settings_form(request, request.POST)
    assert form is not None
    if form.is_valid():
        services.settings_update(
            actor=request.user,
            tenant_id=request.tenant.pk,
            missed_after_minutes=form.cleaned_data["missed_after_minutes"],
        )
        messages.success(request, _("Ajuste guardado."))
    else:
        messages.error(request, _("Escribe un número de minutos válido."))
    return redirect("publishing:posts")
