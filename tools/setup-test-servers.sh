#!/usr/bin/env bash
# Install the servers the tests start themselves (Debian packages `postgresql` and `prometheus`),
# where this machine allows it (root with apt-get). Elsewhere the tests that need them skip with a
# reason naming the package; under CI=true such a skip is a failure (tests/servers.py).
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
    echo "test servers: prometheus and postgresql already installed"
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test servers: apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
    echo "test servers: not root, not installing ${need[*]}; their tests will skip" \
        "(install with: sudo apt-get install ${need[*]})"
fi
