#!/usr/bin/env bash
# `make restore`: load a backup into an EMPTY database and media folder (never on top of live data:
# the audit log is append-only, so restoring over it would fail half-way).
# Usage: DATABASE_URL=postgres://.../new_db [MEDIA_ROOT=...] scripts/restore.sh portal-STAMP.dump media-STAMP.tar.gz
set -euo pipefail
: "${DATABASE_URL:?Set DATABASE_URL to an empty PostgreSQL database}"
dump=${1:?give the .dump file}
media_archive=${2:?give the media .tar.gz file}
media=${MEDIA_ROOT:-var/media}
tables=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
if [ "$tables" != "0" ]; then
  echo "Refusing to restore: the target database already has $tables tables. Create an empty one first." >&2
  exit 2
fi
pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" "$dump"
mkdir -p "$media"
if [ -n "$(ls -A "$media" 2>/dev/null)" ]; then
  echo "Refusing to unpack uploads: $media is not empty." >&2
  exit 2
fi
tar -xzf "$media_archive" -C "$media"
echo "Restored $dump and $media_archive."
