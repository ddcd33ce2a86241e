#!/usr/bin/env bash
# Stop a test FHIR server started by start.sh PORT (or give the pid file: stop.sh FILE.pid).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
arg="${1:?usage: stop.sh PORT|PIDFILE}"
pidfile="$arg"; [[ "$arg" =~ ^[0-9]+$ ]] && pidfile="$here/run/server-$arg.pid"
pid="$(cat "$pidfile")"
kill "$pid" 2>/dev/null || { echo "stop.sh: $pid not running" >&2; rm -f "$pidfile"; exit 0; }
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
kill -9 "$pid" 2>/dev/null || true
rm -f "$pidfile"
echo "stop.sh: stopped $pid" >&2
