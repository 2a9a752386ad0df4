#!/usr/bin/env bash
# Installs what the tests need (idempotent, quick when already present), then runs every test project.
# Ends with one line: "N passed, N failed[, N skipped]" summed over all test projects.
set -uo pipefail
cd "$(dirname "$0")"

step() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "Installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null \
    || { echo "apt-get install ${need_apt[*]} failed"; echo "0 passed, 1 failed"; exit 1; }
fi

for dir in tests/clients; do
  if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" -o "$dir/package.json" -nt "$dir/node_modules" ]; then
    step "npm install in $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || { echo "npm install failed"; echo "0 passed, 1 failed"; exit 1; }
    touch "$dir/node_modules"
  fi
done

step "dotnet tool restore"
# Once more on failure: a restore into an empty package cache has been seen to fail once and then pass.
dotnet tool restore >/dev/null || dotnet tool restore \
  || { echo "dotnet tool restore failed"; echo "0 passed, 1 failed"; exit 1; }

step "dotnet build"
if ! dotnet build Shop.sln -c Debug -warnaserror -nologo -v:q; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

step "dotnet test"
log=$(mktemp)
status=0
# One test project at a time: the broker's crash tests and the AppHost tests both want the machine.
for project in tests/*/*.csproj; do
  dotnet test "$project" --no-build -c Debug --nologo "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# Sum the per-assembly summaries: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed: ' "$log" | awk -F'[:,]' '
  { f += $2; p += $4; s += $6 } END { printf "%d %d %d\n", p, f, s }')
assemblies=$(grep -cE '(Passed|Failed)! +- Failed: ' "$log")
# Each failed test's name and the start of its error message, kept for the end of the output:
# CI shows only the tail, and the benchmarks' smoke run comes after the tests.
failures=$(awk '
  /^ +Failed .+ \[[0-9][^]]*\] *$/ { print; keep = 1; lines = 0; next }
  keep && /^ +Stack Trace:/ { keep = 0; next }
  keep && lines < 20 { print; lines++ }' "$log")
rm -f "$log"
# A test host that crashed reports no summary: count it as a failure rather than hide it.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$assemblies" -eq 0 ] && [ "$failed" -eq 0 ] && failed=1

step "benchmarks, quick mode (smoke: fails only on errors)"
if ! dotnet run -c Release --project bench/Bench -- quick; then
  echo "bench quick mode failed"; failed=$((failed + 1)); status=1
fi

if [ -n "$failures" ]; then
  step "failed tests"
  printf '%s\n' "$failures"
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo
echo "$summary"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
