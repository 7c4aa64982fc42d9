# Production image: gunicorn for the web, the same image runs the rq worker and scheduler.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=production
RUN useradd --create-home --uid 10001 app
WORKDIR /srv
COPY pyproject.toml ./
COPY app ./app
COPY tenants ./tenants
COPY shared_workspace ./shared_workspace
COPY retention ./retention
COPY migrations ./migrations
COPY alembic.ini ./
RUN pip install --no-cache-dir .
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk /tmp/govuk
RUN mkdir -p app/static/govuk && cp -R /tmp/govuk/assets /tmp/govuk/govuk-frontend.min.css \
      /tmp/govuk/govuk-frontend.min.js app/static/govuk/ && rm -rf /tmp/govuk
USER app
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "gthread", "--threads", "4", "app.wsgi:app"]
