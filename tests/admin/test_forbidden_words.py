"""Forbidden words page: the list, its changes in the audit log, the tester box, and the
agent's send refused for a word added here."""

from __future__ import annotations

import pytest

from deskconfig.models import ConfigChange, ForbiddenWord
from helpdesk.tenancy import tenant_context
from tests.admin.crud_support import assert_refused_to_non_admins, changes, make, page
from tests.conftest import client_for
from tests.tickets.factories import ChannelAccountFactory
from tests.tickets.helpers import receive
from tickets import services
from tickets.models import Direction, Message

pytestmark = pytest.mark.django_db

URL = "/admin/forbidden-words/"


def words_of(tenant):
    with tenant_context(tenant.pk):
        return sorted(ForbiddenWord.objects.values_list("word", flat=True))


def test_list_shows_this_tenants_words_only(cast):
    make(cast, ForbiddenWord, word="tonto")
    make(cast, ForbiddenWord, cast.tenant_b, word="secreto-de-b")
    html = page(client_for(cast.admin), URL)
    assert "tonto" in html and "secreto-de-b" not in html
    assert 'id="words-tester"' in html


def test_create_edit_delete_each_audited(cast):
    client = client_for(cast.admin)
    response = client.post(f"{URL}new/", {"word": "  hijo   de  "})
    assert response.status_code == 302 and response["Location"] == URL
    assert words_of(cast.tenant_a) == ["hijo de"]
    with tenant_context(cast.tenant_a.pk):
        word = ForbiddenWord.objects.get(word="hijo de")

    assert client.post(f"{URL}{word.pk}/", {"word": "Estúpido"}).status_code == 302
    assert words_of(cast.tenant_a) == ["Estúpido"]
    assert client.post(f"{URL}{word.pk}/delete/").status_code == 302
    assert words_of(cast.tenant_a) == []

    log = changes(cast.tenant_a, "forbidden-words")
    assert [c.action for c in log] == [
        ConfigChange.Action.CREATE,
        ConfigChange.Action.UPDATE,
        ConfigChange.Action.DELETE,
    ]
    assert log[0].after == {"word": "hijo de"} and log[0].actor == cast.admin
    assert log[1].before == {"word": "hijo de"} and log[1].after == {"word": "Estúpido"}
    assert log[2].before == {"word": "Estúpido"}


@pytest.mark.parametrize(
    ("word", "error"),
    [
        ("", "Este campo es obligatorio."),
        ("¡¡!!", "al menos una letra o número"),
        ("TÓNTO", "Ya está en la lista como «tonto»."),
    ],
)
def test_validation_errors_in_spanish(cast, word, error):
    make(cast, ForbiddenWord, word="tonto")
    response = client_for(cast.admin).post(f"{URL}new/", {"word": word})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert words_of(cast.tenant_a) == ["tonto"]
    assert changes(cast.tenant_a, "forbidden-words") == []


def test_the_same_word_in_another_tenant_is_fine(cast):
    make(cast, ForbiddenWord, cast.tenant_b, word="tonto")
    assert client_for(cast.admin).post(f"{URL}new/", {"word": "tonto"}).status_code == 302
    assert words_of(cast.tenant_a) == ["tonto"]


def test_another_tenants_word_is_404_and_untouched(cast):
    theirs = make(cast, ForbiddenWord, cast.tenant_b, word="secreto")
    client = client_for(cast.admin)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/", {"word": "mio"}).status_code == 404
    assert client.post(f"{URL}{theirs.pk}/delete/").status_code == 404
    assert words_of(cast.tenant_b) == ["secreto"]


def test_agents_and_analysts_are_refused(cast):
    word = make(cast, ForbiddenWord, word="tonto")
    assert_refused_to_non_admins(
        cast,
        client_for,
        [URL, f"{URL}new/", f"{URL}{word.pk}/", f"{URL}{word.pk}/delete/", f"{URL}test/"],
    )


def test_the_tester_names_the_words_found_by_htmx(cast):
    for w in ("estupido", "Tonto", "hijo de"):
        make(cast, ForbiddenWord, word=w)
    make(cast, ForbiddenWord, cast.tenant_b, word="hola")
    client = client_for(cast.admin)
    response = client.post(
        f"{URL}test/", {"text": "¡Hola, ESTÚPIDO! Hijo\nde... tontorrón"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="words-tester"' in html
    assert "estupido" in html and "hijo de" in html
    assert "Tonto</span>" not in html  # "tontorrón" is another word
    assert "hola</span>" not in html  # tenant B's word

    clean = client.post(f"{URL}test/", {"text": "Buenos días"}, HTTP_HX_REQUEST="true")
    assert "Ninguna palabra prohibida" in clean.content.decode()


def test_the_tester_works_without_javascript(cast):
    make(cast, ForbiddenWord, word="tonto")
    response = client_for(cast.admin).post(f"{URL}test/", {"text": "Qué TONTO"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Se rechazaría por" in html and "tonto</span>" in html
    empty = client_for(cast.admin).post(f"{URL}test/", {"text": ""}, HTTP_HX_REQUEST="true")
    assert "Este campo es obligatorio." in empty.content.decode()


def test_a_word_added_on_the_page_refuses_the_agents_send_naming_it(cast):
    assert client_for(cast.admin).post(f"{URL}new/", {"word": "Güey"}).status_code == 302
    with tenant_context(cast.tenant_a.pk):
        account = ChannelAccountFactory(tenant=cast.tenant_a)
        ticket = receive(account).message.ticket
        with pytest.raises(services.ActionRefused) as refused:
            services.message_send(ticket=ticket, author=cast.agent, text="Oye, GUEY.")
        assert "Güey" in refused.value.messages[0]
        assert not Message.objects.filter(direction=Direction.OUT).exists()
