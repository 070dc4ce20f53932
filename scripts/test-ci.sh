#!/usr/bin/env bash
# The full suite, as CI runs it: lint, typecheck, the fast suite on embedded stores, a
# production build, the same integration suite against real PostgreSQL and Redis, and the
# browser suite. Every step runs (the browser suite only after a good build) and the last line is
# "N passed, N failed", counting tests plus the lint/typecheck/build checks.
set -uo pipefail
cd "$(dirname "$0")/.."

results=.data/test-results
rm -rf "$results" && mkdir -p "$results"
passed=0
failed=0
failures=()

count_vitest() { # $1 = json report; skipped tests are reported, not counted (the real-store run fails on them itself)
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests)' "$1" 2>/dev/null || echo "0 1 0"
}

check() { # $1 = name, rest = command; counts as one check
  local name=$1; shift
  echo "::: $name"
  local started=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "::: $name ok ($((SECONDS - started)) s)"
  else failed=$((failed + 1)); failures+=("$name"); echo "::: $name FAILED ($((SECONDS - started)) s)"; fi
}

tests() { # $1 = name, $2 = json report, rest = command; counts the tests in the report
  local name=$1 report=$2; shift 2
  echo "::: $name"
  local started=$SECONDS status=0
  "$@" || status=$?
  read -r p f s < <(count_vitest "$report")
  if [[ $status -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [[ $status -ne 0 ]]; then failures+=("$name"); fi
  echo "::: $name: $p passed, $f failed, $s skipped ($((SECONDS - started)) s)"
}

# Lint and typecheck side by side (each keeps one core busy); each one's output in turn, once it ended.
beside() { # $1 = log, rest = command: runs it into the log, which ends with how long it took
  local log=$1 started=$SECONDS status=0; shift
  "$@" > "$log" 2>&1 || status=$?
  echo "(took $((SECONDS - started)) s, beside the other)" >> "$log"
  return $status
}
ended() { # $1 = pid, $2 = its log: prints the log; the job's exit status
  local status=0
  wait "$1" || status=$?
  cat "$2"
  return $status
}
beside "$results/lint.log" npm run --silent lint & lint_pid=$!
beside "$results/typecheck.log" npm run --silent typecheck & typecheck_pid=$!
check lint ended $lint_pid "$results/lint.log"
check typecheck ended $typecheck_pid "$results/typecheck.log"
check "shellcheck deploy.sh" shellcheck deploy.sh
check "monitoring (promtool)" bash scripts/promtool-check.sh
tests "unit + integration (embedded stores)" "$results/embedded.json" \
  env -u TEST_DATABASE_URL -u TEST_REDIS_URL npx vitest run --reporter=default --reporter=json "--outputFile.json=$results/embedded.json"
# The build comes first: the real-server suite also runs the production server (proxy, deploy,
# monitoring and image tests).
check build npm run --silent build
tests "integration (real PostgreSQL + Redis)" "$results/real.json" \
  env REAL_TESTS_REPORT="$results/real.json" node scripts/run-real-tests.mjs
# Production servers on throwaway PostgreSQL/Redis that the suite stops and starts (root: mounts).
tests "fault suite" "$results/faults.json" \
  npm run --silent test:faults -- --reporter=default --reporter=json "--outputFile.json=$results/faults.json"
# The benchmark for a few seconds on CI's own build (no timing assertions: fails only on errors),
# then memory under a minute of mixed traffic on the real stores (flat within 10 %).
check "benchmark smoke run" env NEXT_DIST_DIR=.next npm run --silent bench -- --smoke --no-build
check "memory soak (60 s, real stores)" env NEXT_DIST_DIR=.next npm run --silent soak -- --duration 60 --real --no-build
if [[ " ${failures[*]-} " == *" build "* ]]; then
  echo "::: browser suite skipped: the build failed"; failed=$((failed + 1)); failures+=("browser")
else
  echo "::: browser suite"
  started=$SECONDS
  status=0
  npx playwright test || status=$?
  read -r p f < <(node -e 'const r=JSON.parse(require("fs").readFileSync("e2e/.artifacts/results.json","utf8"));const s=r.stats;console.log(s.expected, s.unexpected + s.flaky)' 2>/dev/null || echo "0 1")
  if [[ $status -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [[ $status -ne 0 ]]; then failures+=("browser"); fi
  echo "::: browser suite: $p passed, $f failed ($((SECONDS - started)) s)"
fi

if [[ ${#failures[@]} -gt 0 ]]; then
  echo "failed steps: ${failures[*]}"
  # Each failed test and the first line of its error, so the log's last lines say what failed.
  node scripts/ci-failures.mjs "$results"/*.json e2e/.artifacts/results.json || true
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
