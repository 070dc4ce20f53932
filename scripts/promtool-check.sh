#!/usr/bin/env bash
# Checks monitoring/: the Prometheus config, the alert rules, and the rules' unit tests.
# Needs promtool (Debian: apt-get install prometheus; or the prom/prometheus image).
set -euo pipefail
cd "$(dirname "$0")/../monitoring"

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: install prometheus (apt-get install -y prometheus)" >&2
  exit 127
fi

# The scrape config reads the bearer token from secrets/metrics-token (never committed); promtool
# checks that the file exists, so a placeholder stands in for the check when it is absent.
token=secrets/metrics-token
placeholder=0
if [ ! -e "$token" ]; then
  mkdir -p secrets
  printf 'placeholder-for-promtool-check' > "$token"
  placeholder=1
fi
cleanup() { if [ "$placeholder" = 1 ]; then rm -f "$token"; fi; }
trap cleanup EXIT

promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
