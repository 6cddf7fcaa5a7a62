#!/usr/bin/env bash
# Run the whole suite; "no tests collected" (pytest exit 5) is a failure, not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "error: no tests were collected" >&2; exit 1; fi
exit $rc
