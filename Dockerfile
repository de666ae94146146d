# syntax=docker/dockerfile:1
# Node 22 LTS, as package.json "engines" says.

# Build: compile the service, the CLI and the migrations with the dev dependencies. The bench and
# the tests are not copied, so they are not built.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# Production dependencies only: no compiler, no test tools, no embedded PostgreSQL binaries.
FROM node:22-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Runtime: the compiled files and production dependencies, as an unprivileged user. No src/:
# the CLI runs from dist/ (`npm run -s cli -- …` or `node dist/src/cli.js …`). NODE_ENV=production
# makes WORKERS default to auto: one service process per CPU the container may use, behind one
# primary, which is the process `docker stop` signals (README "Every core: WORKERS").
FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8000
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY scripts/build-if-stale.mjs ./scripts/build-if-stale.mjs
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
