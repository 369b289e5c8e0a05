"""How a message's stored HTML is shown: quoted history behind a toggle, inline images.

The HTML was sanitized on the way in; here only two things of ours are filled in at render
time, so they follow the reader's language and the attachments' current addresses: the
«mostrar texto citado» label of the folded quoted history (``<details class="quoted">``) and
``cid:`` image sources, which become the stored attachment's URL (or go, when no attachment
carries that Content-ID, so no ``cid:`` is ever left in the markup).
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

_QUOTED = '<details class="quoted">'
_CID = re.compile(r"""(src=)(["'])cid:([^"']*)\2""", re.IGNORECASE)


@register.filter
def message_html(message: Any) -> SafeString:
    html = str(message.html or "")
    if "cid:" in html:
        urls = {
            a.content_id: reverse("tickets:attachment", args=[a.token])
            for a in message.attachments.all()
            if a.content_id
        }

        def _swap(match: re.Match[str]) -> str:
            url = urls.get(match.group(3).strip("<> "))
            return f'{match.group(1)}"{escape(url)}"' if url else 'src=""'

        html = _CID.sub(_swap, html)
    if _QUOTED in html:
        label = escape(_("mostrar texto citado"))
        html = html.replace(_QUOTED, f'{_QUOTED}<summary class="quoted-toggle">{label}</summary>')
    return mark_safe(html)  # noqa: S308 - sanitized when stored; only our own markup is added
