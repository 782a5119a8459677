#!/usr/bin/env bash
# Builds a released tag's operator from that tag's own tree, for tests that
# run an old release beside the current one (tests/e2e/upgrade_test.sh).
#
#   scripts/build-tag.sh TAG      prints the binary's path on stdout
#
# The tree comes from `git archive TAG` into build/tags/TAG/src (once; the
# source of a tag never changes), is configured as `make build` configures
# build/ and only the electric-operator target is built. A second run finds
# the tree and the configured build and leaves ninja nothing to do.
#
# The build directory is src/build, the same place relative to the sources
# as build/ is in the checkout: the project's CMakeLists sets the compiler
# cache's base directory to the source tree, so every path on the compiler's
# command line then reads the same in both trees and a source file the tag
# shares with the checkout comes out of the cache instead of being compiled.
# build/tags/TAG/build is a symlink to it, the path other scripts use.
#
# Environment: EO_TAGS_DIR (default build/tags), EO_TAG_BUILD_TYPE (default
# RelWithDebInfo, as `make build`; the Dockerfile's Release compiles with
# other flags and so shares no cache entries with build/), EO_BUILD_JOBS
# (default: every core; the e2e tests run one at a time).
#
# Exit status: 0 built, 2 usage, 3 the tag is not in this clone (a shallow
# clone fetches no tags), 1 anything else.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${1:-}"
if [ -z "$tag" ] || [ $# -ne 1 ]; then
  echo "usage: $0 TAG" >&2
  exit 2
fi
# A tag name becomes a directory name: refuse anything that could climb out.
case "$tag" in
  */* | .* | *..* ) echo "build-tag: refusing tag name '$tag'" >&2; exit 2 ;;
esac
if ! commit="$(git -C "$REPO_ROOT" rev-parse --verify -q "refs/tags/$tag^{commit}")"; then
  echo "build-tag: tag $tag is not in this clone (a shallow clone has no tags: git fetch --tags)" >&2
  exit 3
fi

tags_dir="${EO_TAGS_DIR:-$REPO_ROOT/build/tags}"
root="$tags_dir/$tag"
src="$root/src"
build="$src/build"
bin="$root/build/bin/electric-operator"
build_type="${EO_TAG_BUILD_TYPE:-RelWithDebInfo}"
jobs="${EO_BUILD_JOBS:-$(nproc)}"

mkdir -p "$root" || exit 1

# Export into a temporary directory and rename it into place, so an
# interrupted export is never taken for a whole tree by the next run. The
# stamp records the commit: a tag moved to another commit (it should not
# happen to a release) gets a fresh tree.
if [ ! -f "$src/.eo-tag-commit" ] || [ "$(cat "$src/.eo-tag-commit")" != "$commit" ]; then
  echo "build-tag: exporting $tag ($commit) into $src" >&2
  tmp="$(mktemp -d "$root/src.tmp.XXXXXX")" || exit 1
  if ! git -C "$REPO_ROOT" archive --format=tar "$commit" | tar -x -C "$tmp"; then
    rm -rf "$tmp"
    echo "build-tag: git archive $tag failed" >&2
    exit 1
  fi
  echo "$commit" > "$tmp/.eo-tag-commit"
  rm -rf "$src" "$root/build"
  mv "$tmp" "$src" || exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
  echo "build-tag: configuring $tag ($build_type)" >&2
  # CCACHE_BASEDIR=/work for a compiler cache used without the CMakeLists'
  # launcher; with it, the CMakeLists sets its own (the source tree).
  if ! CCACHE_BASEDIR="${CCACHE_BASEDIR:-/work}" cmake -S "$src" -B "$build" -G Ninja \
         -DCMAKE_BUILD_TYPE="$build_type" -DEO_BUILD_TESTS=OFF >"$root/configure.log" 2>&1; then
    tail -n 30 "$root/configure.log" >&2
    echo "build-tag: cmake failed (whole log: $root/configure.log)" >&2
    exit 1
  fi
fi
ln -sfn src/build "$root/build" || exit 1

# ninja decides what is out of date; on a second run it has nothing to do.
if ! CCACHE_BASEDIR="${CCACHE_BASEDIR:-/work}" ninja -C "$build" -j "$jobs" electric-operator >"$root/build.log" 2>&1; then
  tail -n 30 "$root/build.log" >&2
  echo "build-tag: building $tag failed (whole log: $root/build.log)" >&2
  exit 1
fi
if [ ! -x "$bin" ]; then
  echo "build-tag: no binary at $bin after the build" >&2
  exit 1
fi
echo "$bin"
