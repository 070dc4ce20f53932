# syntax=docker/dockerfile:1
# Production image: the standalone Next.js server behind scripts/start.mjs (the peer-address
# layer and the configuration check run before the port opens), as a non-root user, with a
# health check. The build stage copies only what `npm run build` reads; .dockerignore keeps
# secrets (.env*, .data/) and test material out of the context. scripts/dockerfile.test.ts
# checks both files.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json next.config.ts tsconfig.json instrumentation.ts proxy.ts ./
COPY app ./app
COPY components ./components
COPY lib ./lib
COPY i18n ./i18n
COPY messages ./messages
COPY public ./public
COPY supabase ./supabase
COPY scripts/standalone-assets.mjs scripts/start.mjs ./scripts/
# `npm run build` also copies .next/static and public/ into .next/standalone.
RUN npm run build

FROM node:20-bookworm-slim AS run
WORKDIR /app
ENV NODE_ENV=production PORT=3000 HOSTNAME=0.0.0.0 NEXT_TELEMETRY_DISABLED=1
# The code stays root-owned (read-only to the server); only its data and cache are writable.
COPY --from=build /app/.next/standalone ./
COPY --from=build /app/scripts/start.mjs ./start.mjs
# The embedded database (PGlite) lives in /app/.data when DATABASE_URL is not set: mount a
# volume there to keep it.
RUN mkdir -p /app/.data /app/.next/cache && chown node:node /app/.data /app/.next/cache
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "start.mjs"]
