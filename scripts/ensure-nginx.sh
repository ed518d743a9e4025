#!/usr/bin/env bash
# Install nginx from the system's packages when it is missing: tests/deploy/test_nginx.py runs the
# shipped deploy/nginx.conf (TLS, redirect, HSTS, rolling restarts) on loopback ports.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  # The package's own service is not wanted: the tests start nginx themselves, on their own ports.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  $SUDO pkill -x nginx >/dev/null 2>&1 || true
else
  echo "nginx is missing and this system has no apt-get: install nginx, then run make test again." >&2
  exit 1
fi
