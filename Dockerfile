# ccm: API + web UI + worker. Multi-stage: build wheels with compilers, run on a slim image as a non-root user.

# The template editor's and the analytics charts' bundles (CodeMirror 6, uPlot from npm, see package.json);
# Node stays in this stage.
FROM node:20-bookworm-slim AS editor
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ccm/web/editor ./ccm/web/editor
COPY ccm/web/charts ./ccm/web/charts
RUN npm run build

FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ccm ./ccm
COPY --from=editor /src/ccm/web/static/editor ./ccm/web/static/editor
COPY --from=editor /src/ccm/web/static/charts ./ccm/web/static/charts
COPY renderers ./renderers
COPY delivery ./delivery
COPY archive ./archive
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm AS runtime
# WeasyPrint needs Pango and HarfBuzz; fonts so PDFs render the same everywhere.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libjpeg62-turbo libopenjp2-7 \
      fonts-dejavu-core fonts-liberation2 shared-mime-info \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ccm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=ccm:ccm templates ./templates
ENV CCM_ENV=production \
    CCM_HOST=0.0.0.0 \
    CCM_PORT=8000 \
    CCM_DATA_DIR=/app/var \
    CCM_TEMPLATES_DIR=/app/templates \
    PYTHONUNBUFFERED=1
RUN mkdir -p /app/var && chown ccm:ccm /app/var
USER ccm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
ENTRYPOINT ["ccm"]
CMD ["serve"]
