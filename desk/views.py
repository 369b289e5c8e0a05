"""The ticket workspace: the ticket page, its actions and tabs, search, new ticket.

Views are thin: look the ticket up in the request's tenant (404 otherwise), call one service,
render the page or, for htmx requests, the partial that changed."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels_conn.messenger import window as meta_window
from channels_conn.whatsapp import templates as whatsapp
from desk.forms import EscalateForm, NewTicketForm, ReplyForm
from deskconfig.accounts import ChannelAccount
from deskconfig.kinds import ChannelKind
from deskconfig.models import Department, WhatsAppTemplate
from deskconfig.reconnect import reconnect_refusal
from helpdesk.http import AuthedRequest, tenant_user_required
from helpdesk.models import User
from tickets import queries, services
from tickets.metadata import active_fields
from tickets.models import Message, Sentiment, Ticket
from tickets.quick import template_render
from workflow import assignment

TABS = ("cliente", "ticket", "comentarios", "contexto", "escalar", "bot", "anteriores", "historial")
# Types a browser may show inline; everything else downloads (never HTML, SVG or JS inline).
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _form_errors(form: Any) -> list[str]:
    return [str(e) for errs in form.errors.values() for e in errs]


def _page_context(request: AuthedRequest, ticket: Ticket, tab: str) -> dict[str, Any]:
    thread, more = queries.thread(ticket)
    return {
        "page": "inbox",
        "ticket": ticket,
        "thread": thread,
        "more": more,
        "tab": tab,
        "tabs": TABS,
        "users": assignment.assignable_users(ticket),
        "mergeable": queries.mergeable_tickets(ticket),
        "sentiments": Sentiment.choices,
        "form": ReplyForm(),
        **_composer_context(ticket),
    }


def _composer_context(
    ticket: Ticket, *, chosen: int | None = None, params: Sequence[str] = ()
) -> dict[str, Any]:
    """The account's «Reconectar» reason, WhatsApp's window and template picker, Messenger's
    and Instagram's windows, for the composer (None on other channels)."""
    now = timezone.now()
    # An account the provider refused: the composer says why instead of offering to send.
    reconnect = reconnect_refusal(ticket.account)
    if reconnect:
        return {"wa": None, "meta_window": None, "reconnect": reconnect}
    state = whatsapp.composer_state(ticket, now)
    if state is None:
        return {"wa": None, "meta_window": meta_window.composer_state(ticket, now)}
    return {
        "wa": state,
        "wa_picks": whatsapp.picks(state.templates, chosen=chosen, params=params),
        "wa_open_picker": chosen is not None,
    }


@require_GET
@tenant_user_required
def ticket_detail(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    tab = request.GET.get("tab", "cliente")
    if tab not in TABS:
        tab = "cliente"
    context = _page_context(request, ticket, tab)
    context.update(_tab_context(ticket, tab, request.user))
    if request.htmx and request.htmx.target == "ticket-pane-body":
        # Opened from the inbox, beside or over the columns: the workspace without the shell.
        return render(request, "tickets/ticket.html#workspace", context)
    return render(request, "tickets/ticket.html", context)


def _header(request: AuthedRequest, ticket: Ticket, error: str = "") -> HttpResponse:
    context = {
        "ticket": ticket,
        "users": assignment.assignable_users(ticket),
        "mergeable": queries.mergeable_tickets(ticket),
        "sentiments": Sentiment.choices,
        "action_error": error,
    }
    return render(request, "tickets/ticket.html#header", context)


@require_GET
@tenant_user_required
def ticket_header(request: AuthedRequest, number: int) -> HttpResponse:
    return _header(request, queries.ticket_for_user(user=request.user, number=number))


@require_GET
@tenant_user_required
def ticket_older(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        raise Http404 from None
    thread, more = queries.thread(ticket, before_id=before)
    return render(
        request, "tickets/ticket.html#older", {"ticket": ticket, "thread": thread, "more": more}
    )


@require_POST
@tenant_user_required
def ticket_reply(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    form = ReplyForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        reply_to = None
        if form.cleaned_data["reply_to"]:
            reply_to = Message.objects.filter(pk=form.cleaned_data["reply_to"]).first()
        try:
            services.message_send(
                ticket=ticket,
                author=request.user,
                text=form.cleaned_data["text"],
                reply_to=reply_to,
                files=form.incoming_files(),
                is_public={"public": True, "private": False}.get(form.cleaned_data["visibility"]),
            )
        except ValidationError as exc:
            error = " ".join(_errors(exc))
    else:
        error = " ".join(_form_errors(form))
    if not request.htmx:
        if error:
            flash.error(request, error)
        return redirect("tickets:detail", number=ticket.number)
    if error:
        # The draft stays in the composer, with the reason.
        return render(
            request,
            "tickets/ticket.html#composer",
            {
                "ticket": ticket,
                "form": form,
                "error": error,
                "draft": request.POST.get("text", ""),
                **_composer_context(ticket),
            },
        )
    response = render(
        request,
        "tickets/ticket.html#composer",
        {"ticket": ticket, "form": ReplyForm(), **_composer_context(ticket)},
    )
    return response


@require_POST
@tenant_user_required
def ticket_reply_template(request: AuthedRequest, number: int) -> HttpResponse:
    """Send an approved WhatsApp template (the only answer once the 24-hour window closed)."""
    ticket = queries.ticket_for_user(user=request.user, number=number)
    template: WhatsAppTemplate | None = None
    params: list[str] = []
    if request.POST.get("template"):
        template = get_object_or_404(  # scoped: another tenant's template is a 404
            WhatsAppTemplate, pk=_int_or_404(request.POST["template"])
        )
        params = whatsapp.posted_params(request.POST, template)
    error = ""
    try:
        if template is None:
            raise services.ActionRefused(_("Elige una plantilla aprobada de la lista."))
        whatsapp.message_send_template(
            ticket=ticket, author=request.user, template=template, params=params
        )
    except ValidationError as exc:
        error = " ".join(_errors(exc))
    if not request.htmx:
        if error:
            flash.error(request, error)
        return redirect("tickets:detail", number=ticket.number)
    context: dict[str, Any] = {"ticket": ticket, "form": ReplyForm(), "error": error}
    if error and template is not None:
        # The chosen template stays open with what was typed, beside the reason.
        context.update(_composer_context(ticket, chosen=template.pk, params=params))
    else:
        context.update(_composer_context(ticket))
    return render(request, "tickets/ticket.html#composer", context)


def _int_or_404(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404 from None


def _user_in_tenant(value: str) -> User | None:
    if not value:
        return None
    try:
        return get_object_or_404(User, pk=int(value), is_active=True)
    except ValueError:
        raise Http404 from None


def _department(value: str) -> Department | None:
    if not value:
        return None
    try:
        return get_object_or_404(Department, pk=int(value))  # scoped: another tenant's is 404
    except ValueError:
        raise Http404 from None


@require_POST
@tenant_user_required
def ticket_action(request: AuthedRequest, number: int, action: str) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    actor = request.user
    try:
        if action == "assign":
            services.ticket_assign(
                ticket=ticket,
                assignee=_user_in_tenant(request.POST.get("assignee", "")),
                actor=actor,
            )
        elif action == "close":
            services.ticket_close(ticket=ticket, actor=actor)
        elif action == "reopen":
            services.ticket_reopen(ticket=ticket, actor=actor)
        elif action == "important":
            services.ticket_mark_important(ticket=ticket, actor=actor)
        elif action == "sentiment":
            services.ticket_set_sentiment(
                ticket=ticket, actor=actor, sentiment=request.POST.get("sentiment", "")
            )
        elif action == "department":
            services.ticket_set_department(
                ticket=ticket,
                department=_department(request.POST.get("department", "")),
                actor=actor,
            )
        elif action == "merge":
            try:
                source_number = int(request.POST.get("source", ""))
            except ValueError:
                raise Http404 from None
            source = queries.ticket_for_user(user=request.user, number=source_number)
            services.ticket_merge(source=source, target=ticket, actor=actor)
        elif action == "split":
            message = get_object_or_404(
                Message, pk=_int_or_404(request.POST.get("message", "")), ticket=ticket
            )
            new = services.message_split(message=message, actor=actor)
            flash.success(
                request,
                _("El mensaje quedó en el ticket nuevo #%(n)s.") % {"n": new.number},
            )
            return redirect("tickets:detail", number=new.number)
        else:
            raise Http404
    except ValidationError as exc:
        if request.htmx:
            return _header(
                request,
                queries.ticket_for_user(user=request.user, number=number),
                " ".join(_errors(exc)),
            )
        flash.error(request, " ".join(_errors(exc)))
    if request.htmx:
        return _header(request, queries.ticket_for_user(user=request.user, number=number))
    return redirect("tickets:detail", number=ticket.number)


@require_POST
@tenant_user_required
def message_retry(request: AuthedRequest, number: int, message_id: int) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    message = get_object_or_404(Message, pk=message_id, ticket=ticket)
    try:
        services.message_retry(message=message, actor=request.user)
    except ValidationError as exc:
        flash.error(request, " ".join(_errors(exc)))
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("tickets:detail", number=ticket.number)


# --- tabs ----------------------------------------------------------------------------------


def _tab_context(ticket: Ticket, tab: str, user: User) -> dict[str, Any]:
    if tab == "cliente":
        return {"fields": active_fields("customer"), "values": ticket.customer.metadata}
    if tab == "ticket":
        return {
            "fields": active_fields("ticket"),
            "values": ticket.metadata,
            "departments": Department.objects.order_by("name"),
        }
    if tab == "comentarios":
        return {"comments": queries.comments(ticket), "people": queries.mentionable_people(ticket)}
    if tab == "contexto":
        return {"context_messages": queries.public_context(ticket)}
    if tab == "escalar":
        return {"escalate_form": EscalateForm()}
    if tab == "anteriores":
        return {"previous": queries.previous_tickets(ticket)}
    if tab == "historial":
        return {"events": queries.history(ticket)}
    return {}


@tenant_user_required
def ticket_tab(request: AuthedRequest, number: int, tab: str) -> HttpResponse:
    if tab not in TABS:
        raise Http404
    ticket = queries.ticket_for_user(user=request.user, number=number)
    errors: list[str] = []
    if request.method == "POST":
        errors = _tab_post(request, ticket, tab)
        ticket = queries.ticket_for_user(user=request.user, number=number)
        if not request.htmx:
            for error in errors:
                flash.error(request, error)
            return redirect(f"/tickets/{ticket.number}/?tab={tab}")
    context = {"ticket": ticket, "tab": tab, "tab_errors": errors, "posted": request.POST}
    context.update(_tab_context(ticket, tab, request.user))
    return render(request, "tickets/ticket.html#tabpanel", context)


def _tab_post(request: AuthedRequest, ticket: Ticket, tab: str) -> list[str]:
    actor, post = request.user, request.POST
    try:
        if tab == "cliente" and post.get("op") == "link":
            services.customer_link_identity(
                customer=ticket.customer,
                actor=actor,
                kind=post.get("kind", ""),
                value=post.get("value", ""),
                ticket=ticket,
            )
        elif tab == "cliente":
            services.customer_save(
                customer=ticket.customer,
                actor=actor,
                name=post.get("name", ""),
                rut=post.get("rut", ""),
                metadata=_metadata_values(post, "customer"),
            )
        elif tab == "ticket":
            services.ticket_set_metadata(
                ticket=ticket, actor=actor, values=_metadata_values(post, "ticket")
            )
        elif tab == "comentarios":
            services.comment_add(ticket=ticket, author=actor, text=post.get("text", ""))
        elif tab == "escalar":
            form = EscalateForm(post)
            if not form.is_valid():
                return _form_errors(form)
            services.ticket_escalate(
                ticket=ticket,
                actor=actor,
                to=form.cleaned_data["to"],
                note=form.cleaned_data["note"],
            )
        elif tab == "bot":
            services.customer_set_bot(
                customer=ticket.customer, actor=actor, enabled=post.get("enabled") == "1"
            )
        else:
            raise Http404
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return [f"{key}: {' '.join(msgs)}" for key, msgs in exc.message_dict.items()]
        return _errors(exc)
    return []


def _metadata_values(post: Any, target: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in active_fields(target):
        name = f"meta_{field.key}"
        values[field.key] = post.getlist(name) if field.field_type == "multi" else post.get(name)
    return values


# --- attachments, quick replies, search, new ticket ----------------------------------------


@require_GET
@tenant_user_required
def attachment(request: AuthedRequest, token: str) -> FileResponse:
    item = queries.attachment_for_user(user=request.user, token=token)  # others' are 404
    inline = item.content_type in INLINE_TYPES and request.GET.get("download") != "1"
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=not inline,
        filename=item.name,
        content_type=item.content_type
        if inline
        else (mimetypes.guess_type(item.name)[0] or "application/octet-stream"),
    )
    if not inline:
        response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@tenant_user_required
def quick_replies(request: AuthedRequest, number: int) -> HttpResponse:
    ticket = queries.ticket_for_user(user=request.user, number=number)
    query = request.GET.get("text", "").lstrip("/").split(" ")[0]
    templates = queries.templates_for(request.user, query)
    rendered = [(t, template_render(t, ticket=ticket, agent=request.user)) for t in templates]
    return render(request, "tickets/partials/quick_replies.html", {"rendered": rendered})


@require_GET
@tenant_user_required
def search(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    result = queries.search(tenant_id=request.tenant.pk, query=query)
    found_number = result.ticket_number is not None and not result.customers
    if found_number and Ticket.objects.filter(number=result.ticket_number).exists():
        return redirect("tickets:detail", number=result.ticket_number)
    return render(request, "tickets/search.html", {"page": "search", "q": query, "result": result})


@tenant_user_required
def ticket_new(request: AuthedRequest) -> HttpResponse:
    accounts = ChannelAccount.objects.filter(active=True).order_by("kind", "name")
    choices = whatsapp.template_choices([a.pk for a in accounts if a.kind == ChannelKind.WHATSAPP])
    form = NewTicketForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = _ticket_create(request.user, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, " ".join(_errors(exc)))
        else:
            flash.success(request, _("Ticket #%(n)s creado.") % {"n": ticket.number})
            return redirect("tickets:detail", number=ticket.number)
    chosen = form.chosen_template_id()
    picks = whatsapp.picks(
        choices,
        chosen=chosen,
        params=form.posted_params() if chosen is not None else (),
    )
    context = {"page": "inbox", "form": form, "accounts": accounts, "wa_picks": picks}
    return render(request, "tickets/new.html", context)


def _ticket_create(author: User, data: dict[str, Any]) -> Ticket:
    """The new ticket, its first message a WhatsApp template when one was chosen."""
    common = {
        "account": data["account"],
        "identity": data["identity"],
        "customer_name": data["name"],
        "author": author,
    }
    if data["template"] is not None:
        return whatsapp.ticket_create_with_template(
            **common, template=data["template"], params=data["params"]
        )
    return services.ticket_create(**common, text=data["text"])
