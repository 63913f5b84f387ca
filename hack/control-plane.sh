#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go module sources into a versioned cache folder outside
# the clone, and prints that folder. The usual download sites for these binaries are not
# reachable here, so envtest and `qual dev` run on binaries built from the published modules.
# A second run finds the cache and returns at once.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
cache_root="${QUAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qual}"
dest="$cache_root/control-plane/kube-${KUBE_VERSION}-etcd-${ETCD_VERSION}"

log() { printf '[control-plane] %s\n' "$*" >&2; }

if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" ]]; then
  echo "$dest"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
export GOFLAGS="-trimpath" CGO_ENABLED=0

# elapsed prints a progress line every 30 s while a long build runs in the background.
elapsed() {
  local pid=$1 what=$2 start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && log "still building $what ($((SECONDS - start)) s)"
  done
  wait "$pid"
}

build_kube_apiserver() {
  local mod="$work/kube-apiserver"
  mkdir -p "$mod"
  log "kube-apiserver $KUBE_VERSION: resolving k8s.io/kubernetes and its staging modules"
  local gomod
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  # k8s.io/kubernetes replaces its staging modules with local folders; point each one at the
  # published module of the matching v0 version instead.
  local staging="v0.${KUBE_VERSION#v1.}"
  {
    printf 'module qual.cx/hack/kube-apiserver\n\ngo 1.26\n\n'
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
  } >"$mod/go.mod"
  (cd "$mod" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2)
  log "kube-apiserver $KUBE_VERSION: compiling (about 9 minutes on 2 cores the first time)"
  # Stamp the version as the release build does: without it the server reports
  # v0.0.0-master+$Format:%H$, which `kubectl version` cannot parse.
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local version_pkg=k8s.io/component-base/version
  local stamp="-X $version_pkg.gitVersion=$KUBE_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean"
  (cd "$mod" && go build -ldflags="-s -w $stamp" -o "$dest/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver) &
  elapsed $! kube-apiserver
  mv "$dest/kube-apiserver.tmp" "$dest/kube-apiserver"
}

build_etcd() {
  local mod="$work/etcd"
  mkdir -p "$mod"
  log "etcd $ETCD_VERSION: resolving go.etcd.io/etcd/server/v3"
  printf 'module qual.cx/hack/etcd\n\ngo 1.26\n' >"$mod/go.mod"
  cat >"$mod/main.go" <<'GO'
// Command etcd is etcd's own server entry point, built from the published module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$mod" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 && go mod tidy >&2)
  log "etcd $ETCD_VERSION: compiling (about 2 minutes the first time)"
  (cd "$mod" && go build -ldflags="-s -w" -o "$dest/etcd.tmp" .) &
  elapsed $! etcd
  mv "$dest/etcd.tmp" "$dest/etcd"
}

[[ -x "$dest/etcd" ]] || build_etcd
[[ -x "$dest/kube-apiserver" ]] || build_kube_apiserver
log "ready in $dest"
echo "$dest"
