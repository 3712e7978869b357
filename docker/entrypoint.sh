#!/bin/sh
# SaaSReady container entrypoint (see docker/Dockerfile; written without a Docker engine at hand,
# not run here).
#   api (default)   run pending migrations (PostgreSQL mode), then exec the API
#   worker          exec the background worker
#   migrate         run pending migrations and exit (a one-off job: `docker compose run --rm api migrate`)
#   migration:run | migration:revert | keys:rotate   the operator CLI
#   anything else   exec'd as is (e.g. `sh`)
# `exec` replaces this shell with node, so SIGTERM from `docker stop` reaches node itself and the API
# drains its in-flight requests before exiting (compose also sets `init: true` to reap zombies).
set -eu

CLI=dist/apps/api/apps/api/src/cli.js
cmd="${1:-api}"

case "$cmd" in
  api)
    # Embedded mode (no DATABASE_URL) migrates itself at start. With several API replicas, prefer the
    # one-off `migrate` job before rolling them out: concurrent migration runs are not serialized.
    if [ -n "${DATABASE_URL:-}" ]; then
      node "$CLI" migration:run
    fi
    exec node dist/apps/api/apps/api/src/main.js
    ;;
  worker)
    exec node dist/apps/worker/apps/worker/src/main.js
    ;;
  migrate)
    exec node "$CLI" migration:run
    ;;
  migration:run | migration:revert | keys:rotate)
    exec node "$CLI" "$cmd"
    ;;
  *)
    exec "$@"
    ;;
esac
