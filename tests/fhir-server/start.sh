#!/usr/bin/env bash
# Start wb_fhir's test FHIR server on 127.0.0.1 and wait until it answers.
#   tests/fhir-server/start.sh [PORT]
# PORT omitted or 0: a free port is chosen. Prints the base URL (http://127.0.0.1:PORT/fhir)
# on stdout, nothing else; progress goes to stderr. The server keeps running in the
# background (own session); stop it with stop.sh [PORT] or `kill $(cat PIDFILE)`.
# Environment:
#   FHIR_SERVER_LOG      log file     (default tests/fhir-server/run/server-PORT.log)
#   FHIR_SERVER_PIDFILE  pid file     (default: the log file with .pid instead of .log)
#   FHIR_SERVER_TIMEOUT  seconds to wait for GET /fhir/metadata (default 300)
#   FHIR_SERVER_JAVA_OPTS JVM options (default below). C1-only JIT and the serial GC halve
#                        the CPU that start-up needs (~55 s instead of ~120 s of CPU time)
#                        and run the test suite at least as fast on a 2-core machine.
# Needs a build first (build.sh; this script runs it when target/ is missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

port="${1:-0}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "start.sh: PORT must be a number, got '$port'" >&2; exit 2; }
[[ -d target/classes && -d target/dependency ]] || ./build.sh

name="${port}"; [[ "$port" == 0 ]] && name="auto-$$"
mkdir -p run
log="${FHIR_SERVER_LOG:-$here/run/server-$name.log}"
pidfile="${FHIR_SERVER_PIDFILE:-${log%.log}.pid}"
timeout="${FHIR_SERVER_TIMEOUT:-300}"
java_opts="${FHIR_SERVER_JAVA_OPTS:--Xmx1536m -Xss1m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"

http_ok() {  # http_ok URL -> 0 when it answers 200
  if command -v curl >/dev/null 2>&1; then
    curl -sf -o /dev/null --max-time 20 "$1"
  else
    python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20)' "$1" 2>/dev/null
  fi
}

# shellcheck disable=SC2086
setsid nohup java $java_opts -cp "$here/target/classes:$here/target/dependency/*" \
  uk.wb.fhirserver.TestFhirServer --server.address=127.0.0.1 --server.port="$port" \
  >"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$pidfile"
echo "start.sh: java pid $pid, log $log" >&2

fail() {
  echo "start.sh: $1 (log: $log); last lines:" >&2
  tail -n 40 "$log" >&2 || true
  kill "$pid" 2>/dev/null || true
  exit 1
}

deadline=$(( $(date +%s) + timeout ))
actual=""
while :; do
  kill -0 "$pid" 2>/dev/null || fail "server exited during start-up"
  (( $(date +%s) < deadline )) || fail "server did not answer within ${timeout} s"
  if [[ -z "$actual" ]]; then
    if [[ "$port" != 0 ]]; then
      actual="$port"
    else
      # sed stops at the first match itself: no `| head` for pipefail to trip on
      actual="$(sed -n '/Tomcat started on port/{s/.*Tomcat started on port \([0-9][0-9]*\).*/\1/p;q;}' "$log")"
    fi
  fi
  if [[ -n "$actual" ]] && http_ok "http://127.0.0.1:$actual/fhir/metadata"; then
    break
  fi
  sleep 1
done
echo "start.sh: up after $(( $(date +%s) - deadline + timeout )) s" >&2
echo "http://127.0.0.1:$actual/fhir"
