"""Forbidden words: whole words, case- and accent-insensitive; a refused reply stores nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.tenancy import tenant_context
from tests.tickets.factories import ForbiddenWordFactory
from tests.tickets.helpers import events, fresh, receive
from tickets import services
from tickets.forbidden import find_forbidden, fold
from tickets.models import Attachment, Customer, Direction, EventKind, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def words(in_a):
    for word in ("estupido", "Tonto", "Güey", "hijo de"):
        ForbiddenWordFactory(tenant=in_a.tenant_a, word=word)


@pytest.fixture
def ticket(account):
    return receive(account).message.ticket


def test_fold_lowercases_and_drops_accents():
    assert fold("Estúpido ÑANDÚ Güey") == "estupido ñandu guey"


@pytest.mark.parametrize(
    "text",
    [
        "Eres un Estúpido",  # accent in the text, none in the word
        "ESTUPIDO",  # case
        "eres estúpido.",  # punctuation around
        "tonto!",
        "¡TONTO!",
        "qué güey",  # accent/diaeresis in the word as the admin wrote it
        "que guey",
    ],
)
def test_forbidden_words_are_found_case_and_accent_insensitively(text):
    assert find_forbidden(text, ["estupido", "Tonto", "Güey"])


@pytest.mark.parametrize(
    "text",
    [
        "tontorrón",  # the word inside another word
        "atonto",
        "estupidos",
        "Tontos",
        "un pingüeyno",
        "nada raro",
    ],
)
def test_a_word_inside_another_word_is_not_matched(text):
    assert find_forbidden(text, ["estupido", "Tonto", "Güey"]) == []


def test_a_phrase_matches_as_a_whole():
    assert find_forbidden("¡Hijo de...!", ["hijo de"]) == ["hijo de"]
    assert find_forbidden("hijo desconocido", ["hijo de"]) == []


@pytest.mark.parametrize("text", ["hijo  de", "HIJO\nDE", "hijo\tde!", "«Hijo   dé»"])
def test_a_phrase_matches_whatever_whitespace_separates_its_words(text):
    assert find_forbidden(text, ["hijo  de"]) == ["hijo  de"]


@pytest.mark.parametrize(
    "text",
    [
        "estu\u0301pido",  # the accent as a combining mark (NFD), as some keyboards send it
        "es\u00adtupido",  # a soft hyphen hidden inside
        "es\u200btúpido",  # a zero-width space hidden inside
        "(estupido)",
        "«estúpido»",
        "estúpido,tonto",
    ],
)
def test_tricks_and_punctuation_do_not_hide_a_word(text):
    assert find_forbidden(text, ["estupido"]) == ["estupido"]


@pytest.mark.parametrize("text", ["estupido2", "estupido_x", "x_estupido", "3estupido"])
def test_letters_digits_or_underscore_glued_to_the_word_make_another_word(text):
    assert find_forbidden(text, ["estupido"]) == []


@given(
    before=st.sampled_from(["", " ", "¡", "(", "\n", "x ", "—"]),
    after=st.sampled_from(["", " ", "!", ")", ".", "\n", " y"]),
    word=st.sampled_from(["Tonto", "ESTÚPIDO", "güey", "hijo de"]),
)
def test_a_word_between_non_letters_is_always_found(before, after, word):
    assert find_forbidden(before + word.upper() + after, [word]) == [word]


def test_the_words_are_reported_as_the_admin_wrote_them():
    assert find_forbidden("ESTÚPIDO y tonto", ["estupido", "Tonto", "feo", " "]) == [
        "estupido",
        "Tonto",
    ]


def test_a_reply_with_forbidden_words_is_refused_naming_them_and_stores_nothing(
    words, ticket, in_a, django_capture_on_commit_callbacks
):
    before = [e.pk for e in events(ticket)]
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(services.ActionRefused) as err,
    ):
        services.message_send(
            ticket=ticket,
            author=in_a.agent,
            text="Usted es un Estúpido y un TONTO",
            files=[services.IncomingFile("a.txt", b"x")],
        )

    message = err.value.messages[0]
    assert "estupido" in message and "Tonto" in message
    assert "Güey" not in message
    assert not Message.objects.filter(direction=Direction.OUT).exists()
    assert not Attachment.objects.exists()
    assert [e.pk for e in events(ticket)] == before
    assert fresh(ticket).addressed is False
    assert callbacks == []


def test_a_clean_reply_passes(words, ticket, in_a):
    message = services.message_send(
        ticket=ticket, author=in_a.agent, text="Tontorrón no es grosero"
    )
    assert message.direction == Direction.OUT


def test_a_proactive_ticket_with_forbidden_words_is_refused_and_stores_nothing(
    words, account, in_a
):
    with pytest.raises(services.ActionRefused, match="estupido"):
        services.ticket_create(
            account=account, identity="nuevo@example.test", author=in_a.agent, text="estúpido"
        )
    assert not Customer.objects.filter(identities__value="nuevo@example.test").exists()
    assert not Ticket.objects.exists()


def test_forbidden_words_are_per_tenant(words, in_a):
    with tenant_context(in_a.tenant_b.pk):
        assert services.forbidden_words_in("estúpido") == []
    assert services.forbidden_words_in("estúpido") == ["estupido"]


def test_customers_may_write_forbidden_words(words, account):
    """The filter guards what the team sends, not what customers say."""
    received = receive(account, text="¡Son unos tontos y estúpidos, TONTO!")
    assert received.created
    assert events(received.message.ticket, EventKind.MESSAGE_IN)


def test_enye_is_a_letter_of_its_own():
    """Spanish "ñ" is not an accented "n": a forbidden "ano" must not block "año"."""
    assert find_forbidden("Feliz año nuevo", ["ano"]) == []
    assert find_forbidden("Qué AÑO más largo", ["año"]) == ["año"]
    assert find_forbidden("un ano", ["año"]) == []
    assert find_forbidden("ESTÚPIDO", ["estupido"]) == ["estupido"]
