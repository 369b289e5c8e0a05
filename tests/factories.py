"""Factories for tests. Child factories take their tenant from their parent."""

from __future__ import annotations

import factory

from helpdesk.models import Notification, Role, Tenant, User

PASSWORD = "s3guro-Clave-de-prueba"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Empresa {n}")
    slug = factory.Sequence(lambda n: f"empresa-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"persona{n}@example.test")
    name = factory.Faker("name", locale="es_CL")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    tenant = factory.SelfAttribute("user.tenant")
    text = factory.Faker("sentence", locale="es_CL")
