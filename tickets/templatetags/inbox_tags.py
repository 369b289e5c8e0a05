"""The inbox's cards in a template: ``{% cards v %}`` renders a column page's cards at once
(see tickets.cards), with one renderer (labels, URLs) per template render."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from tickets.cards import CardRenderer

register = template.Library()

_KEY = "tickets.cards.renderer"


@register.simple_tag(takes_context=True)
def cards(context: template.Context, view: Any) -> SafeString:
    renderer = context.render_context.get(_KEY)
    if renderer is None:
        renderer = context.render_context[_KEY] = CardRenderer()
    # Every value in the cards is escaped by the renderer.
    return mark_safe(renderer.column(view.column.kind, view.column.pk, view.items))  # noqa: S308
