"""With DEBUG off, a missing page, a refused one and a server error answer in the product's
look and in Spanish (the user's language)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_not_found_and_refused_look_like_the_product(cast, settings):
    settings.DEBUG = False
    client = client_for(cast.agent)
    missing = client.get("/no-existe/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "No encontramos lo que buscas" in html and "css/app.css" in html
    refused = client.get("/admin/users/")
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "No tienes acceso a esta página" in html and "css/app.css" in html


def test_a_server_error_looks_like_the_product(settings):
    settings.DEBUG = False
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Algo salió mal" in html and "css/app.css" in html
    assert "style=" not in html  # the CSP allows no inline style
