#!/usr/bin/env bash
# `make bench`: run every benchmark in bench/; scripts needing PostgreSQL/Redis get the throwaway services.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=.venv/bin/python
# shellcheck source=scripts/test_services.sh
source scripts/test_services.sh
trap services_stop EXIT
services_start
status=0
for script in bench/*.py; do
  echo "== $script"
  .venv/bin/python "$script" || status=1
done
exit $status
