#!/bin/sh
# Installs the Debian packages apmsock needs.  Idempotent: packages already
# present are not fetched again, and apt's lists are refreshed only when a
# package is missing.
set -eu
PKGS="gcc libc6-dev make pkg-config libuv1-dev libjansson-dev check gcovr python3 python3-pytest python3-pytest-xdist strace
python3-pytest-timeout python3-yaml python3-jsonschema python3-fastjsonschema python3-lxml python3-jinja2 iproute2 util-linux
mono-mcs mono-runtime chromium chromium-driver"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "deps: all installed"
  exit 0
fi
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
