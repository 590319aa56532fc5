# riskhub: one image for every process (web, worker, beat, migrate); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user runs every process. It can write only to var/ (beat's schedule file,
# mail files, gunicorn's control socket under $HOME/.gunicorn), so var/ is also its home.
RUN groupadd --system riskhub \
    && useradd --system --gid riskhub --home-dir /app/var --no-create-home riskhub

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. All of them install from wheels
# (psycopg[binary] bundles libpq), so no compiler or system packages are needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files (admin, Swagger UI) are collected into the image and served by WhiteNoise.
# Settings refuse to load without secrets when DEBUG is off; these throwaway values exist only
# for this one build step and are not kept in the image's environment.
RUN SECRET_KEY=build-only-not-a-secret IDENTIFIER_KEY=build-only-not-a-secret \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown riskhub:riskhub /app/var

USER riskhub

EXPOSE 8000

# Shell form so ${WEB_CONCURRENCY} is expanded at start; exec so gunicorn gets the signals.
CMD ["sh", "-c", "exec gunicorn riskhub.wsgi -b 0.0.0.0:8000 -w ${WEB_CONCURRENCY:-2} --access-logfile -"]
