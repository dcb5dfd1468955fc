#!/usr/bin/env bash
# Installs missing Debian packages when running as root; otherwise says what to install.
# Usage: scripts/system_packages.sh [--optional] PKG...
set -euo pipefail
optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
if [ $optional = 1 ]; then
  echo "Note: optional packages missing (${missing[*]}); install them with: sudo apt-get install ${missing[*]}"
  exit 0
fi
echo "Missing Debian packages: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}   (or run this command as root)" >&2
exit 1
