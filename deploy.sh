#!/usr/bin/env bash
# LitStatus deploys (docs/OPERATIONS.md § 1). Usage:
#
#   deploy.sh vps             build a release, migrate, switch `current`, restart, wait for health
#   deploy.sh rollback        go back one release on purpose (switch, restart, wait for health)
#   deploy.sh stop            stop the app (DEPLOY_SUPERVISOR=process only; systemd: systemctl stop)
#   deploy.sh docker          the same steps with image tags (needs a Docker engine)
#   deploy.sh docker-rollback back to the previous image tag
#
# vps layout under DEPLOY_ROOT (default /srv/litstatus):
#   releases/<UTC timestamp>/  the standalone server, start.mjs, supabase/migrations,
#                              .env -> ENV_FILE, release.env (APP_VERSION, PGLITE_DATA_DIR)
#   current -> releases/<id>   switched atomically (a new link renamed over the old one)
#   history                    the releases that went live, one a line, the last is current
#   shared/.env                the default ENV_FILE; shared/data: the embedded database;
#   shared/cache/<id>          each release's .next/cache; run/ (pid file), logs/ (app.log)
#
# If any step fails the previous release is made current again, restarted if it had been
# stopped, and waited on; the last stderr line is the reason, and the exit status is 1.
#
# Settings (environment): DEPLOY_ROOT, ENV_FILE, DEPLOY_ARTIFACT (an already built
# .next/standalone: no npm ci / npm run build), DEPLOY_SUPERVISOR (systemd | process),
# SERVICE_NAME (litstatus), SYSTEMCTL ("systemctl"; "sudo systemctl" for a non-root deployer),
# KEEP_RELEASES (5), HEALTH_WAIT_SECONDS (60), STOP_WAIT_SECONDS (15), HEALTH_URL (default
# http://127.0.0.1:$PORT/api/health, PORT from the env file), NODE_BIN (node on PATH).
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPLOY_ROOT=$(realpath -ms "${DEPLOY_ROOT:-/srv/litstatus}")
ENV_FILE=$(realpath -ms "${ENV_FILE:-$DEPLOY_ROOT/shared/.env}")
DEPLOY_SUPERVISOR=${DEPLOY_SUPERVISOR:-systemd}
SERVICE_NAME=${SERVICE_NAME:-litstatus}
read -ra SYSTEMCTL_CMD <<<"${SYSTEMCTL:-systemctl}"
KEEP_RELEASES=${KEEP_RELEASES:-5}
HEALTH_WAIT_SECONDS=${HEALTH_WAIT_SECONDS:-60}
STOP_WAIT_SECONDS=${STOP_WAIT_SECONDS:-15}

RELEASES=$DEPLOY_ROOT/releases
HISTORY=$DEPLOY_ROOT/history
PID_FILE=$DEPLOY_ROOT/run/litstatus.pid
APP_LOG=$DEPLOY_ROOT/logs/app.log

say() { printf 'deploy: %s\n' "$*"; }
die() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- environment of the app

# KEY=value lines of an env file (systemd EnvironmentFile and dotenv agree on this subset:
# `#` comment lines, blank lines, optional surrounding quotes; no inline comments).
read_env_file() {
  local line key value
  [[ -f $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ ! $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      printf 'deploy: %s: ignoring a line that is not KEY=value\n' "$1" >&2
      continue
    fi
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    printf '%s=%s\n' "$key" "$value"
  done <"$1"
}

# APP_ENV: the environment a release runs with, as the systemd unit builds it: release.env
# first, then the env file (later wins), on top of PATH and HOME only.
load_app_env() {
  local release=$1
  APP_ENV=("PATH=$PATH" "HOME=${HOME:-/}")
  mapfile -t -O 2 APP_ENV < <(read_env_file "$release/release.env"; read_env_file "$release/.env")
}

# The value of KEY in APP_ENV (the last one wins), or $2.
app_env() {
  local entry value=$2
  for entry in "${APP_ENV[@]}"; do
    if [[ $entry == "$1="* ]]; then value=${entry#*=}; fi
  done
  printf '%s' "$value"
}

# ---------------------------------------------------------------- releases

current_release() {
  if [[ -L $DEPLOY_ROOT/current ]]; then basename "$(readlink "$DEPLOY_ROOT/current")"; fi
}

# The release that went live before the current one (skipping any that were pruned).
previous_release() {
  local cur=$1 id
  [[ -f $HISTORY ]] || return 0
  while IFS= read -r id; do
    if [[ -n $id && $id != "$cur" && -d $RELEASES/$id ]]; then printf '%s' "$id"; return 0; fi
  done < <(tac "$HISTORY")
}

# Atomic: a new link under a temporary name, renamed over `current` (rename(2) replaces it).
switch_current() {
  ln -sfn "releases/$1" "$DEPLOY_ROOT/current.new.$$"
  mv -T "$DEPLOY_ROOT/current.new.$$" "$DEPLOY_ROOT/current"
  say "current -> releases/$1"
}

new_release_id() {
  local id n=1
  id=$(date -u +%Y%m%dT%H%M%SZ)
  local candidate=$id
  while [[ -e $RELEASES/$candidate ]]; do n=$((n + 1)); candidate=$id-$n; done
  printf '%s' "$candidate"
}

# Copies the standalone server into releases/<id> (under a temporary name until complete).
build_release() {
  local id=$1 artifact=${DEPLOY_ARTIFACT:-}
  if [[ -z $artifact ]]; then
    say "building in $SOURCE_DIR (npm ci, npm run build)"
    (cd "$SOURCE_DIR" && npm ci --no-audit --no-fund && npm run build)
    artifact=$SOURCE_DIR/.next/standalone
  fi
  if [[ ! -f $artifact/server.js || ! -f $artifact/.next/server/instrumentation.js ]]; then
    echo "$artifact is not a standalone build (server.js or .next/server/instrumentation.js missing)"
    return 1
  fi
  local staging=$RELEASES/.staging-$id
  rm -rf "$staging"
  mkdir -p "$staging"
  cp -a "$artifact/." "$staging/"
  if [[ ! -f $staging/start.mjs ]]; then cp "$SOURCE_DIR/scripts/start.mjs" "$staging/start.mjs"; fi
  if [[ ! -d $staging/supabase/migrations ]]; then mkdir -p "$staging/supabase" && cp -a "$SOURCE_DIR/supabase/migrations" "$staging/supabase/"; fi
  # The migrations run from the checkout (npm run db:migrate): they must be the release's own.
  if ! diff -rq "$SOURCE_DIR/supabase/migrations" "$staging/supabase/migrations" >/dev/null; then
    echo "the artifact's supabase/migrations differ from $SOURCE_DIR/supabase/migrations"
    return 1
  fi
  # Configuration comes from ENV_FILE only, never from env files inside a build.
  rm -f "$staging"/.env "$staging"/.env.*
  ln -s "$ENV_FILE" "$staging/.env"
  printf 'APP_VERSION=%s\nPGLITE_DATA_DIR=%s\n' "$id" "$DEPLOY_ROOT/shared/data/pglite" >"$staging/release.env"
  # The code is read-only to the service (ProtectSystem=strict); Next's cache lives in shared/,
  # owned like shared/cache (the service user's, when deploy.sh runs as root).
  mkdir -p "$DEPLOY_ROOT/shared/cache/$id"
  chown --reference="$DEPLOY_ROOT/shared/cache" "$DEPLOY_ROOT/shared/cache/$id"
  rm -rf "$staging/.next/cache"
  ln -s "$DEPLOY_ROOT/shared/cache/$id" "$staging/.next/cache"
  mv -T "$staging" "$RELEASES/$id"
  say "release $id built from $artifact"
}

# `npm run db:migrate` in the checkout with the release's DATABASE_URL. The embedded database
# cannot be opened by a second process while the app runs: the app migrates it at start.
migrate_release() {
  local release=$1 url
  load_app_env "$release"
  url=$(app_env DATABASE_URL "")
  if [[ -z $url ]]; then
    say "no DATABASE_URL: the embedded database is migrated by the app at start"
    return 0
  fi
  (cd "$SOURCE_DIR" && env -i "${APP_ENV[@]}" npm run --silent db:migrate)
}

# Keeps the newest KEEP_RELEASES releases, and always the current and the previous one.
prune_releases() {
  local cur prev id keep=$KEEP_RELEASES
  cur=$(current_release)
  prev=$(previous_release "$cur")
  local -a all=()
  mapfile -t all < <(find "$RELEASES" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort -r)
  local i=0
  for id in "${all[@]}"; do
    i=$((i + 1))
    if ((i <= keep)) || [[ $id == "$cur" || $id == "$prev" ]]; then continue; fi
    # The deploy has succeeded: a release that cannot be removed is a warning, not a failure.
    if rm -rf "${RELEASES:?}/$id" "$DEPLOY_ROOT/shared/cache/$id"; then say "pruned release $id"; else say "could not remove release $id (pruning goes on)"; fi
  done
  if [[ -f $HISTORY ]]; then
    local tmp=$HISTORY.new.$$
    while IFS= read -r id; do if [[ -d $RELEASES/$id ]]; then printf '%s\n' "$id"; fi; done <"$HISTORY" >"$tmp"
    mv -f "$tmp" "$HISTORY"
  fi
}

# ---------------------------------------------------------------- supervisors

# The pid in the pid file, if that process is alive and is our server: its working directory
# is a release (Next renames the process to next-server, so its command line cannot tell).
running_pid() {
  local pid state cwd
  [[ -f $PID_FILE ]] || return 0
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  if [[ -n $state && $state != Z && $cwd == "$RELEASES/"* ]]; then
    printf '%s' "$pid"
  fi
}

# Polls until the server in the pid file is gone, at most $1 seconds; 1 if it is still there.
wait_stopped() {
  local deadline=$((EPOCHSECONDS + $1))
  while [[ -n $(running_pid) ]]; do
    if ((EPOCHSECONDS >= deadline)); then return 1; fi
    sleep 0.1
  done
}

# SIGTERM, then up to STOP_WAIT_SECONDS for it to exit, then SIGKILL.
stop_process() {
  local pid
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_stopped "$STOP_WAIT_SECONDS"; then
      say "pid $pid ignored SIGTERM for ${STOP_WAIT_SECONDS} s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_stopped 5 || { echo "pid $pid survived SIGKILL"; return 1; }
    fi
    say "stopped pid $pid"
  fi
  rm -f "$PID_FILE"
}

# A detached `node start.mjs` (its own session, so it outlives this script) with APP_ENV only.
start_process() {
  local release=$1 pid
  load_app_env "$release"
  LOG_OFFSET=$(stat -c %s "$APP_LOG" 2>/dev/null || echo 0)
  # fd 9 is the deploy lock: the server must not keep it.
  (cd "$release" && exec setsid env -i "${APP_ENV[@]}" "${NODE_BIN:-node}" "$release/start.mjs" >>"$APP_LOG" 2>&1 </dev/null 9>&-) &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  say "started $(basename "$release") as pid $pid (log: $APP_LOG)"
}

restart_app() {
  local release
  release=$(readlink -f "$DEPLOY_ROOT/current")
  case $DEPLOY_SUPERVISOR in
    process)
      stop_process
      start_process "$release"
      ;;
    systemd)
      "${SYSTEMCTL_CMD[@]}" restart "$SERVICE_NAME"
      say "${SYSTEMCTL_CMD[*]} restart $SERVICE_NAME"
      ;;
    *)
      echo "DEPLOY_SUPERVISOR must be systemd or process, not '$DEPLOY_SUPERVISOR'"
      return 1
      ;;
  esac
}

# The last line the app logged since it was started that says what went wrong.
last_app_line() {
  tail -c "+$((LOG_OFFSET + 1))" "$APP_LOG" 2>/dev/null |
    grep -v -e '^[[:space:]]*at ' -e '^Node\.js v' -e '^[[:space:]]*$' -e '^[[:space:]]*\^' | tail -n 1 | cut -c 1-300
}

# Polls the health URL every 0.2 s (each try at most 2 s) until it answers 200 with this release's version.
# Sets HEALTH_REASON and returns 1 on timeout, or at once when the process has exited.
wait_healthy() {
  local release=$1 port url version body deadline
  load_app_env "$release"
  port=$(app_env PORT 3000)
  url=${HEALTH_URL:-http://127.0.0.1:$port/api/health}
  version=$(app_env APP_VERSION "")
  deadline=$((EPOCHSECONDS + HEALTH_WAIT_SECONDS))
  while ((EPOCHSECONDS < deadline)); do
    if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ $body == *"\"version\":\"$version\""* ]]; then
      say "$(basename "$release") is healthy at $url"
      return 0
    fi
    if [[ $DEPLOY_SUPERVISOR == process && -z $(running_pid) ]]; then
      HEALTH_REASON="$(basename "$release") exited before $url answered: $(last_app_line)"
      return 1
    fi
    sleep 0.2
  done
  HEALTH_REASON="$(basename "$release") did not answer $url with version $version within ${HEALTH_WAIT_SECONDS} s"
  return 1
}

# ---------------------------------------------------------------- steps and recovery

STAGE=""
STEP_OUT=""
PREVIOUS=""
NEW_RELEASE=""
SWITCHED=0
RESTARTED=0
RECOVER=0

# Runs a step with its output shown and kept: on failure its last line is the reason.
step() {
  STAGE=$1
  shift
  "$@" 2>&1 | tee "$STEP_OUT"
}

health_step() {
  STAGE="waiting for /api/health"
  HEALTH_REASON=""
  if ! wait_healthy "$1"; then
    printf '%s\n' "$HEALTH_REASON" >"$STEP_OUT"
    return 1
  fi
}

# EXIT trap of a deploy or rollback: on failure, put the previous release back and serve it.
recover() {
  local status=$? detail outcome
  ((RECOVER)) && ((status != 0)) || return "$status"
  RECOVER=0
  set +e
  detail=$(grep -v '^[[:space:]]*$' "$STEP_OUT" 2>/dev/null | tail -n 1 | cut -c 1-300)
  if [[ -n $NEW_RELEASE && -d $RELEASES/$NEW_RELEASE ]]; then printf '%s: %s\n' "$STAGE" "$detail" >"$RELEASES/$NEW_RELEASE/FAILED"; fi
  say "FAILED $STAGE: ${detail:-exit status $status}; going back to ${PREVIOUS:-nothing}"
  if [[ -z $PREVIOUS ]]; then
    if ((RESTARTED)); then
      if [[ $DEPLOY_SUPERVISOR == process ]]; then stop_process; else "${SYSTEMCTL_CMD[@]}" stop "$SERVICE_NAME"; fi
    fi
    # Nothing to go back to: no `current` rather than a broken one (a reboot would start it).
    if ((SWITCHED)); then rm -f "$DEPLOY_ROOT/current"; fi
    outcome="no previous release to go back to"
  else
    if ((SWITCHED)); then switch_current "$PREVIOUS"; fi
    # A failure before the restart left the previous release running: restart it only if it
    # does not answer.
    if ! ((RESTARTED)) && HEALTH_WAIT_SECONDS=1 wait_healthy "$RELEASES/$PREVIOUS" >/dev/null; then
      outcome="$PREVIOUS still serving"
    elif restart_app && wait_healthy "$RELEASES/$PREVIOUS"; then
      outcome="rolled back to $PREVIOUS, healthy"
    else
      outcome="rollback to $PREVIOUS FAILED too: ${HEALTH_REASON:-restart failed}"
    fi
  fi
  rm -f "$STEP_OUT"
  printf 'deploy: FAILED %s: %s; %s\n' "$STAGE" "${detail:-exit status $status}" "$outcome" >&2
  exit 1
}

prepare_root() {
  mkdir -p "$RELEASES" "$DEPLOY_ROOT/shared/data" "$DEPLOY_ROOT/shared/cache" "$DEPLOY_ROOT/run" "$DEPLOY_ROOT/logs"
  exec 9>"$DEPLOY_ROOT/.deploy.lock"
  flock -n 9 || die "another deploy.sh is running on $DEPLOY_ROOT"
  STEP_OUT=$(mktemp)
  # An interrupted deploy recovers like a failed one (the EXIT trap).
  trap 'exit 130' INT TERM
}

# Points `current` at $1; recover() switches back only if this happened.
switch_step() {
  STAGE="switching current"
  switch_current "$1"
  SWITCHED=1
}

# The restart runs in this shell (not in a pipe): start_process sets LOG_OFFSET.
restart_step() {
  STAGE="restarting the app"
  RESTARTED=1
  restart_app >"$STEP_OUT" 2>&1
  cat "$STEP_OUT"
}

deploy_vps() {
  prepare_root
  [[ -f $ENV_FILE ]] || die "no env file at $ENV_FILE (ENV_FILE)"
  PREVIOUS=$(current_release)
  NEW_RELEASE=$(new_release_id)
  RECOVER=1
  trap recover EXIT
  say "deploying $NEW_RELEASE (previous: ${PREVIOUS:-none}) to $DEPLOY_ROOT"
  step "building the release" build_release "$NEW_RELEASE"
  step "running the migrations" migrate_release "$RELEASES/$NEW_RELEASE"
  switch_step "$NEW_RELEASE"
  restart_step
  health_step "$RELEASES/$NEW_RELEASE"
  RECOVER=0
  printf '%s\n' "$NEW_RELEASE" >>"$HISTORY"
  prune_releases
  rm -f "$STEP_OUT"
  say "deployed $NEW_RELEASE"
}

rollback_vps() {
  prepare_root
  local target
  PREVIOUS=$(current_release)
  NEW_RELEASE=""
  target=$(previous_release "$PREVIOUS")
  [[ -n $target ]] || die "no release to roll back to (history: $HISTORY)"
  RECOVER=1
  trap recover EXIT
  say "rolling back from ${PREVIOUS:-none} to $target"
  switch_step "$target"
  restart_step
  health_step "$RELEASES/$target"
  RECOVER=0
  # The release rolled back from leaves the history; the target is the last line again.
  local tmp=$HISTORY.new.$$
  local -a lines=()
  mapfile -t lines <"$HISTORY"
  while ((${#lines[@]} > 0)) && [[ ${lines[-1]} != "$target" ]]; do unset 'lines[-1]'; done
  if ((${#lines[@]} == 0)); then lines=("$target"); fi
  printf '%s\n' "${lines[@]}" >"$tmp"
  mv -f "$tmp" "$HISTORY"
  rm -f "$STEP_OUT"
  say "rolled back to $target"
}

# ------------------------------------- docker (deploy/deploy-docker.test.ts: a stand-in engine)

DOCKER_CURRENT=$DEPLOY_ROOT/docker-current
DOCKER_PREVIOUS=$DEPLOY_ROOT/docker-previous

docker_run_tag() {
  local tag=$1 port
  docker rm -f litstatus-web >/dev/null 2>&1 || true
  APP_ENV=()
  mapfile -t APP_ENV < <(read_env_file "$ENV_FILE")
  port=$(app_env PORT 3000)
  docker run -d --name litstatus-web --restart unless-stopped --env-file "$ENV_FILE" -e PORT=3000 \
    -e "APP_VERSION=${tag#*:}" -p "127.0.0.1:$port:3000" -v litstatus-data:/app/.data "$tag" >/dev/null
  HEALTH_URL=${HEALTH_URL:-http://127.0.0.1:$port/api/health}
  APP_ENV+=("APP_VERSION=${tag#*:}")
}

docker_healthy() {
  local body deadline=$((EPOCHSECONDS + HEALTH_WAIT_SECONDS))
  while ((EPOCHSECONDS < deadline)); do
    if body=$(curl -fsS --max-time 2 "$HEALTH_URL" 2>/dev/null) && [[ $body == *"\"version\":\"$(app_env APP_VERSION "")\""* ]]; then return 0; fi
    sleep 0.2
  done
  docker logs --tail 20 litstatus-web >&2 || true
  return 1
}

# Switches the running container to $1; on failure back to $2 (if any); exits 1 with the reason.
docker_switch() {
  local tag=$1 fallback=$2 reason=$3
  if docker_run_tag "$tag" && docker_healthy; then return 0; fi
  if [[ -n $fallback ]] && docker_run_tag "$fallback" && docker_healthy; then
    die "FAILED $reason: $tag did not answer $HEALTH_URL within ${HEALTH_WAIT_SECONDS} s; rolled back to $fallback, healthy"
  fi
  die "FAILED $reason: $tag did not answer within ${HEALTH_WAIT_SECONDS} s; ${fallback:-no previous tag} not serving either"
}

deploy_docker() {
  mkdir -p "$DEPLOY_ROOT"
  [[ -f $ENV_FILE ]] || die "no env file at $ENV_FILE (ENV_FILE)"
  local tag previous=""
  tag=litstatus-web:$(date -u +%Y%m%dT%H%M%SZ)
  if [[ -f $DOCKER_CURRENT ]]; then previous=$(<"$DOCKER_CURRENT"); fi
  docker build -t "$tag" "$SOURCE_DIR" || die "FAILED building $tag; ${previous:-nothing} still serving"
  APP_ENV=("PATH=$PATH" "HOME=${HOME:-/}")
  mapfile -t -O 2 APP_ENV < <(read_env_file "$ENV_FILE")
  if [[ -n $(app_env DATABASE_URL "") ]]; then
    (cd "$SOURCE_DIR" && env -i "${APP_ENV[@]}" npm run --silent db:migrate) || die "FAILED running the migrations; ${previous:-nothing} still serving"
  fi
  docker_switch "$tag" "$previous" "starting $tag"
  if [[ -n $previous ]]; then printf '%s\n' "$previous" >"$DOCKER_PREVIOUS"; fi
  printf '%s\n' "$tag" >"$DOCKER_CURRENT"
  say "deployed $tag"
}

rollback_docker() {
  local current previous
  [[ -f $DOCKER_PREVIOUS ]] || die "no previous image tag in $DOCKER_PREVIOUS"
  current=$(<"$DOCKER_CURRENT") previous=$(<"$DOCKER_PREVIOUS")
  docker_switch "$previous" "$current" "rolling back to $previous"
  printf '%s\n' "$previous" >"$DOCKER_CURRENT"
  printf '%s\n' "$current" >"$DOCKER_PREVIOUS"
  say "rolled back to $previous"
}

# ---------------------------------------------------------------- main

case ${1:-} in
  vps) deploy_vps ;;
  rollback) rollback_vps ;;
  stop)
    [[ $DEPLOY_SUPERVISOR == process ]] || die "stop is for DEPLOY_SUPERVISOR=process; use: ${SYSTEMCTL_CMD[*]} stop $SERVICE_NAME"
    stop_process
    ;;
  docker) deploy_docker ;;
  docker-rollback) rollback_docker ;;
  *)
    echo "usage: deploy.sh vps | rollback | stop | docker | docker-rollback (see the header of this file)" >&2
    exit 2
    ;;
esac
