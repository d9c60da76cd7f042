#!/usr/bin/env bash
# Developer tools that no package on this machine ships, built from pinned Go modules and cached
# between runs (like stack.sh does for Jaeger).
#
#   tools.sh kustomize    build kustomize (pinned in deploy/local/kustomize/go.mod) if missing,
#                         then print the path of the binary on stdout
#
# Every failure ends in one line on stderr that says what is wrong and where to look.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SAGALINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sagaline}

die() { echo "tools: $*" >&2; exit 1; }
say() { echo "tools: $*" >&2; }

KUSTOMIZE_VERSION=$(sed -n 's:^\s*sigs.k8s.io/kustomize/kustomize/v5 \(v[^ ]*\).*:\1:p' "$HERE/kustomize/go.mod" | head -n1)
KUSTOMIZE_BIN=$CACHE/kustomize-$KUSTOMIZE_VERSION/kustomize

install_kustomize() {
  [ -n "$KUSTOMIZE_VERSION" ] || die "no kustomize version pinned in $HERE/kustomize/go.mod"
  if [ ! -x "$KUSTOMIZE_BIN" ]; then
    command -v go >/dev/null 2>&1 || die "go not found on PATH: install the Go toolchain to build kustomize $KUSTOMIZE_VERSION"
    say "building kustomize $KUSTOMIZE_VERSION with Go into $KUSTOMIZE_BIN (about a minute on a cold cache)"
    mkdir -p "$(dirname "$KUSTOMIZE_BIN")"
    local log="$(dirname "$KUSTOMIZE_BIN")/go-build.log"
    # A per-process temporary name: two test sessions building at once never see a half-written binary.
    local tmp="$KUSTOMIZE_BIN.tmp.$$"
    (cd "$HERE/kustomize" && go build -o "$tmp" sigs.k8s.io/kustomize/kustomize/v5) \
      >"$log" 2>&1 || { rm -f "$tmp"; die "go build of kustomize failed; see $log"; }
    mv "$tmp" "$KUSTOMIZE_BIN"
  fi
  echo "$KUSTOMIZE_BIN"
}

case "${1:-}" in
  kustomize) install_kustomize ;;
  *) die "usage: tools.sh kustomize" ;;
esac
