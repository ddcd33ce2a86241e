#!/usr/bin/env bash
# Build wb_fhir's test FHIR server (HAPI FHIR JPA) with Maven, unless already up to date.
#   tests/fhir-server/build.sh          build if pom.xml, sources or this script changed
#   FORCE=1 tests/fhir-server/build.sh  rebuild anyway
# Output: target/classes + target/dependency/*.jar (run with start.sh).
# Maven's local cache (~/.m2) makes later builds fast and lets them run offline.
set -euo pipefail
cd "$(dirname "$0")"

for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: '$tool' not found on PATH" >&2; exit 3; }
done

stamp_of_inputs() {
  { cat pom.xml build.sh; find src -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1
}

stamp="$(stamp_of_inputs)"
stamp_file=target/.build-stamp
if [[ "${FORCE:-0}" != 1 && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" \
      && -d target/classes && -d target/dependency ]]; then
  echo "build.sh: test FHIR server is up to date" >&2
  exit 0
fi

echo "build.sh: building test FHIR server (first build downloads ~340 MB into ~/.m2)..." >&2
start=$(date +%s)
# clean: no stale jars in target/dependency after a version change
# (quiet Maven still prints bare colour resets: strip escape sequences; all output to stderr)
set +e
mvn -q -B -Dstyle.color=never clean package dependency:copy-dependencies -DskipTests 2>&1 \
  | sed 's/\x1b\[[0-9;]*m//g' | grep -v '^$' >&2
mvn_status="${PIPESTATUS[0]}"
set -e
[[ "$mvn_status" == 0 ]] || { echo "build.sh: Maven build failed (exit $mvn_status)" >&2; exit 1; }
echo "$stamp" > "$stamp_file"
echo "build.sh: built in $(( $(date +%s) - start )) s" >&2
