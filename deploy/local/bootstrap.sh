#!/usr/bin/env bash
# Installs what the project needs to build and test on a fresh machine of this kind:
# Debian packages (redis-server, iproute2), uv, the locked Python workspace and kustomize.
# Java 17, Maven and Go are expected on the machine; stack.sh says so in one line if one is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]} from Debian packages"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing ${missing[*]}; install them with your package manager" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv from PyPI"
  python3 -m pip install -q --disable-pip-version-check uv
  hash -r
fi

export UV_PYTHON_DOWNLOADS=never
uv sync --frozen --all-packages --python 3.11 -q

# kustomize renders the Kubernetes overlays in the deployment tests; built once, then cached.
bash deploy/local/tools.sh kustomize >/dev/null
