#!/usr/bin/env bash
# Proves what can be proven about the Dockerfile without a container engine:
# - the runtime stage installs exactly the Debian packages that own the shared
#   libraries the operator binary links directly (DT_NEEDED, resolved by ldd),
#   minus libc6/libstdc++6/libgcc-s1, which debian:bookworm-slim already has;
# - every library ldd resolves (transitively) comes from those packages, the
#   base ones, or their Depends, so apt brings everything the binary loads;
# - each runtime package exists in the Debian archive apt knows;
# - the runtime stage runs as 65532:65532, the build stage skips the tests;
# - the build stage's COPY set (CMakeLists.txt, operator/) configures alone.
# Binary under test: $EO_OPERATOR_BIN, default build/bin/electric-operator.
set -u
. "$(dirname "$0")/lib.sh"

BINARY="${EO_OPERATOR_BIN:-$REPO_ROOT/build/bin/electric-operator}"
DOCKERFILE="$REPO_ROOT/Dockerfile"
BASE_PACKAGES="libc6 libstdc++6 libgcc-s1"

# The package owning a library path; tries the path as given and with /usr
# merged or unmerged, since dpkg records whichever the package shipped.
owner_of() {
  local path="$1" candidate owner
  for candidate in "$path" "$(readlink -f "$path")" "/usr${path}" "${path#/usr}"; do
    owner="$(dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1)" || true
    if [ -n "$owner" ]; then echo "$owner"; return 0; fi
  done
  return 1
}

is_base() { case " $BASE_PACKAGES " in *" $1 "*) return 0 ;; esac; return 1; }

# Words after `apt-get install` in the last stage's RUN, options dropped.
runtime_packages_from_dockerfile() {
  awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' "$DOCKERFILE" \
    | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' \
    | grep 'apt-get install' \
    | sed -e 's/.*apt-get install//' -e 's/&&.*//' \
    | tr ' ' '\n' | grep -v '^-' | grep -v '^$' | sort -u
}

# Installed packages reachable from the given ones through Depends/Pre-Depends.
depends_closure() {
  local -A seen=()
  local queue=("$@") package dep
  while [ ${#queue[@]} -gt 0 ]; do
    package="${queue[0]}"; queue=("${queue[@]:1}")
    [ -n "${seen[$package]:-}" ] && continue
    seen[$package]=1
    for dep in $(dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$package" 2>/dev/null \
                   | tr ',|' '\n\n' | sed -e 's/([^)]*)//g' -e 's/:any//' | tr -d ' ' | grep -v '^$'); do
      [ -z "${seen[$dep]:-}" ] && queue+=("$dep")
    done
  done
  printf '%s\n' "${!seen[@]}" | sort
}

if [ ! -x "$BINARY" ]; then
  fail "no operator binary at $BINARY (build it, or set EO_OPERATOR_BIN)"
  finish
fi
echo "binary: $BINARY"

ldd_output="$(ldd "$BINARY")"
needed="$(objdump -p "$BINARY" | awk '/NEEDED/{print $2}')"

direct=""
for soname in $needed; do
  path="$(awk -v so="$soname" '$1 == so && $2 == "=>" {print $3}' <<<"$ldd_output")"
  [ -z "$path" ] && case "$soname" in ld-linux*) path="$(awk '/ld-linux/{print $1}' <<<"$ldd_output")" ;; esac
  if [ -z "$path" ] || [ "$path" = "not" ]; then fail "ldd cannot resolve $soname"; continue; fi
  if package="$(owner_of "$path")"; then
    is_base "$package" || direct="$direct $package"
  else
    fail "no Debian package owns $path ($soname)"
  fi
done
direct="$(tr ' ' '\n' <<<"$direct" | grep -v '^$' | sort -u)"
listed="$(runtime_packages_from_dockerfile)"

echo "linked directly (non-base): $(echo $direct)"
echo "Dockerfile runtime stage:   $(echo $listed)"
if [ "$direct" = "$listed" ]; then
  pass "runtime stage installs exactly the packages of the linked libraries"
else
  missing="$(comm -23 <(echo "$direct") <(echo "$listed") | tr '\n' ' ')"
  extra="$(comm -13 <(echo "$direct") <(echo "$listed") | tr '\n' ' ')"
  fail "runtime package list differs from ldd: missing [${missing% }] not needed [${extra% }]"
fi

# Transitive libraries must be covered by what apt installs.
closure="$(depends_closure $listed $BASE_PACKAGES)"
uncovered=""
while read -r path; do
  [ -z "$path" ] && continue
  package="$(owner_of "$path")" || { uncovered="$uncovered $path(unowned)"; continue; }
  grep -qx "$package" <<<"$closure" || uncovered="$uncovered $package"
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_output")
if [ -z "$uncovered" ]; then
  pass "every library ldd loads comes with the runtime packages or the base image"
else
  fail "libraries not brought by the runtime packages:$uncovered"
fi

for package in $listed; do
  if apt-cache show "$package" >/dev/null 2>&1; then
    pass "runtime package $package exists in the archive"
  else
    fail "runtime package $package unknown to apt (run apt-get update?)"
  fi
done

last_stage="$(awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' "$DOCKERFILE")"
check "runtime stage is debian bookworm-slim" grep -Eq '^FROM debian:(bookworm|\$\{DEBIAN_RELEASE\})-slim' <<<"$last_stage"
check "runtime stage runs as 65532:65532" grep -qx 'USER 65532:65532' <<<"$last_stage"
check "runtime stage entrypoint is /electric-operator" grep -q 'ENTRYPOINT \["/electric-operator"\]' <<<"$last_stage"
check "build stage builds without tests" grep -q -- '-DEO_BUILD_TESTS=OFF' "$DOCKERFILE"
check "binary answers --version" "$BINARY" --version

# The build stage copies only CMakeLists.txt and operator/: configure a tree
# holding just those, as the image build would.
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$REPO_ROOT/CMakeLists.txt" "$context/" && cp -r "$REPO_ROOT/operator" "$context/"
check "build stage's COPY set configures on its own" \
  cmake -S "$context" -B "$context/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEO_BUILD_TESTS=OFF
if [ "${EO_DOCKERFILE_FULL_BUILD:-0}" = 1 ]; then
  check "build stage's COPY set builds the binary" ninja -C "$context/build" -j2 electric-operator
fi

finish
