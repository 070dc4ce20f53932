#!/usr/bin/env bash
# Minimal deploy: build the image, migrate, start, wait for /api/health. `docker` target only
# for now; the vps target, compose stack and rollback arrive with the deployment work.
set -euo pipefail
target=${1:-docker}
image=litstatus-web:${APP_VERSION:-latest}
case "$target" in
  docker)
    docker build -t "$image" .
    if [[ -n "${DATABASE_URL:-}" ]]; then npm run db:migrate; fi
    docker rm -f litstatus-web >/dev/null 2>&1 || true
    # The image runs scripts/start.mjs (peer-address layer, config check before listening). The
    # volume keeps the embedded database when DATABASE_URL is not set.
    docker run -d --name litstatus-web --env-file "${ENV_FILE:-.env}" -p "${PORT:-3000}:3000" \
      -e PORT=3000 -v litstatus-data:/app/.data "$image"
    for _ in $(seq 1 30); do
      if curl -fsS "http://127.0.0.1:${PORT:-3000}/api/health" >/dev/null; then echo "deploy: healthy"; exit 0; fi
      sleep 2
    done
    echo "deploy: /api/health did not answer in 60 s" >&2
    docker logs --tail 50 litstatus-web >&2
    exit 1
    ;;
  *)
    echo "usage: deploy.sh docker" >&2
    exit 2
    ;;
esac
