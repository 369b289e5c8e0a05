# The production image: one image for web (daphne), worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=helpdesk.settings
WORKDIR /app

COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# collectstatic needs settings, not secrets: a throwaway key for the build step only.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input \
    && useradd --system --home /app helpdesk && mkdir -p /app/var && chown -R helpdesk /app/var
USER helpdesk

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "helpdesk.asgi:application"]
