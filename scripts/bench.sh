#!/usr/bin/env bash
# `make bench`: run every benchmark in bench/; scripts needing PostgreSQL/Redis get the throwaway services.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=.venv/bin/python
# A database server's memory and WAL room (this machine has 24 GiB): the 1-crore loads and dashboards need more
# than PostgreSQL's defaults (128 MB of buffers, a checkpoint every 1 GB of WAL).
export SERVICES_PG_SETTINGS="${SERVICES_PG_SETTINGS:--c shared_buffers=4GB -c max_wal_size=16GB -c checkpoint_timeout=30min -c maintenance_work_mem=1GB}"
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
