# syntax=docker/dockerfile:1
# The connector's production image. Stages:
#   build   — all dependencies, tsc → dist/, then the dev dependencies pruned away
#   mocks   — Prism serving our two contracts for partner teams (compose.yaml)
#   runtime — node + production dependencies + dist/ + spec/, as a non-root user
# Node 24 LTS, the line CI tests besides the machine's own (.nvmrc, scripts/node24.sh).
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY generated ./generated
COPY spec ./spec
COPY src ./src
COPY console ./console
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS mocks
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts/mock.sh ./scripts/mock.sh
COPY spec ./spec
ENV MOCK_HOST=0.0.0.0
USER node
# bash scripts/mock.sh kasisto|verify [PORT]; SIGTERM is passed on to Prism
ENTRYPOINT ["bash", "scripts/mock.sh"]
CMD ["kasisto", "4010"]

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
# code and dependencies belong to root (read-only for the app); only data/ is writable
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/spec ./spec
# the operator console's static files (served by the operator listener)
COPY --from=build /app/console ./console
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8000
# node, not curl (not in the image); https when TLS_CERT_FILE is set
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/src/healthcheck.js"]
# The server stops gracefully on SIGTERM (requests in flight finish, store closed).
STOPSIGNAL SIGTERM
# node is PID 1 (exec form, no shell, no npm): it receives SIGTERM itself and installs its
# own handlers. It starts no child processes, so there are no zombies to reap; compose
# still runs it under an init (init: true) to be safe.
CMD ["node", "--enable-source-maps", "dist/src/server.js"]
