#!/usr/bin/env bash
# `make backup`: the database (pg_dump custom format) and the uploaded files, into BACKUP_DIR.
# Usage: DATABASE_URL=postgres://... [MEDIA_ROOT=...] [BACKUP_DIR=backups] scripts/backup.sh
set -euo pipefail
: "${DATABASE_URL:?Set DATABASE_URL to the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "make backup needs PostgreSQL (DATABASE_URL=postgres://...)." >&2; exit 2;; esac
media=${MEDIA_ROOT:-var/media}
dir=${BACKUP_DIR:-backups}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dir"
pg_dump --format=custom --no-owner --file="$dir/portal-$stamp.dump" "$DATABASE_URL"
if [ -d "$media" ]; then
  tar -czf "$dir/media-$stamp.tar.gz" -C "$media" .
else
  tar -czf "$dir/media-$stamp.tar.gz" --files-from /dev/null
fi
echo "$dir/portal-$stamp.dump"
echo "$dir/media-$stamp.tar.gz"
