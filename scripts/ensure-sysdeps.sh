#!/usr/bin/env bash
# Installs the system packages the tests need (mosquitto broker, mbpoll Modbus master,
# tmux for the monitor's terminal test, Debian's chromium and chromedriver for the
# console's browser test) when they are missing: with apt-get when running as root,
# otherwise a clear message.
set -euo pipefail
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mbpoll >/dev/null 2>&1 || missing+=(mbpoll)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the tests need these system packages: ${missing[*]}." >&2
  echo "       install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing ${missing[*]} and no apt-get here; install them with your package manager." >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
