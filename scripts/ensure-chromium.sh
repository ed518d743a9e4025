#!/usr/bin/env bash
# Install Chromium from the system's packages when it is missing (browser tests need it).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
else
  echo "Chromium is missing and this system has no apt-get: install chromium, then run make test again." >&2
  exit 1
fi
