#!/usr/bin/env bash
# Coverage-guided fuzzing of the broker's request path: afl++ drives tools/BrokerFuzz, whose
# Broker.dll SharpFuzz has instrumented. Seeds are request frames recorded from real clients.
# Usage: tools/BrokerFuzz/run-afl.sh [seconds=600]
# Every crash afl finds is copied into tests/Broker.Tests/Fuzz/regressions/ (hex), where the test
# suite replays it from then on. Ends with a line: "afl: N execs, N paths, N crashes, N hangs".
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
work=$(mktemp -d /tmp/broker-afl-XXXXXX)

command -v afl-fuzz >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null; }
# SharpFuzz.CommandLine has its own tool manifest in tools/BrokerFuzz: the tests do not need it.
(cd tools/BrokerFuzz && dotnet tool restore >/dev/null)

echo "== recording seeds from real clients"
FUZZ_SEEDS_OUT="$work/seeds" FUZZ_INPUTS=1 dotnet test tests/Broker.Tests --nologo -v q \
  --filter "FullyQualifiedName~FuzzTests.Mutated_client_frames" >/dev/null

echo "== building and instrumenting"
dotnet build tools/BrokerFuzz -c Release -o "$work/bin" -nologo -v q >/dev/null
(cd tools/BrokerFuzz && dotnet tool run sharpfuzz "$work/bin/Broker.dll" >/dev/null)

echo "== afl-fuzz for $seconds s (output in $work/findings)"
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1
timeout --preserve-status "$seconds" afl-fuzz -i "$work/seeds" -o "$work/findings" -t 10000 -m none \
  -- dotnet "$work/bin/BrokerFuzz.dll" >"$work/afl.log" 2>&1 || true

stats="$work/findings/default/fuzzer_stats"
[ -f "$stats" ] || { tail -30 "$work/afl.log"; echo "afl did not start"; exit 1; }
crashes=0
for crash in "$work"/findings/default/crashes/id:*; do
  [ -e "$crash" ] || continue
  crashes=$((crashes + 1))
  name=$(sha256sum "$crash" | cut -c1-16 | tr a-f A-F)
  xxd -p -u "$crash" | tr -d '\n' > "tests/Broker.Tests/Fuzz/regressions/$name.hex"
  echo "crash kept as tests/Broker.Tests/Fuzz/regressions/$name.hex: $(dotnet "$work/bin/BrokerFuzz.dll" --replay "$crash" | head -1)"
done
value() { grep -E "^$1 " "$stats" | awk '{print $3}'; }
echo "afl: $(value execs_done) execs, $(value corpus_count) paths, $crashes crashes, $(value saved_hangs) hangs"
