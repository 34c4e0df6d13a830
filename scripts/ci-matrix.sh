#!/bin/sh
# The CI matrix's side on the machine that runs provision: a container of a real distribution (the
# target), made a provisioning target by scripts/ci-matrix-target.sh and reached over ssh on
# loopback. .github/workflows/matrix.yml calls exactly these commands, and the tests here call them
# the same way against a Debian 12 container (test/integration/matrix/target.test.ts). The docker
# CLI talks to $DOCKER_HOST when it is set (the tests use a private dockerd).
#
#   ci-matrix.sh create IMAGE NAME [systemd|none]
#       runs the target container NAME from IMAGE on the host's network. systemd: the image's
#       systemd is PID 1 (privileged; when the image has none, it runs without and says so).
#   ci-matrix.sh target NAME ARGS...
#       runs scripts/ci-matrix-target.sh ARGS in the container (e.g. vault-repos), stdin passed on.
#   ci-matrix.sh sshd NAME PORT KEYDIR
#       sshd in the container on 127.0.0.1:PORT for a key made in KEYDIR; waits until it answers
#       (at most 30 s), then prints the tests' environment as KEY=VALUE lines ($GITHUB_ENV format).
#   ci-matrix.sh remove NAME
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# Where the target script goes in the container: / exists in every image.
TARGET_SCRIPT=/provision-ci-matrix-target.sh
SSHD_WAIT_TRIES=30

say() { printf 'ci-matrix: %s\n' "$*" >&2; }
fail() {
  printf 'ci-matrix: %s\n' "$*" >&2
  exit 1
}

create() {
  [ $# -ge 2 ] || fail 'usage: ci-matrix.sh create IMAGE NAME [systemd|none]'
  image=$1
  name=$2
  init=${3:-none}
  case $init in
    systemd)
      # exec keeps systemd PID 1; an image without it still gets a running container.
      docker run --detach --name "$name" --network host --privileged --cgroupns=host \
        --volume /sys/fs/cgroup:/sys/fs/cgroup:rw --entrypoint /bin/sh "$image" \
        -c 'if [ -x /usr/sbin/init ]; then exec /usr/sbin/init; fi; echo "no systemd in this image: running without it" >&2; exec sleep 2147483647' > /dev/null
      ;;
    none)
      docker run --detach --name "$name" --network host --entrypoint /bin/sh "$image" -c 'exec sleep 2147483647' > /dev/null
      ;;
    *) fail "create: init must be systemd or none, not '$init'" ;;
  esac
  docker cp "$here/ci-matrix-target.sh" "$name:$TARGET_SCRIPT"
  say "container $name of $image is up (init: $(docker exec "$name" cat /proc/1/comm))"
}

target() {
  [ $# -ge 2 ] || fail 'usage: ci-matrix.sh target NAME ARGS...'
  name=$1
  shift
  docker exec --interactive "$name" /bin/sh "$TARGET_SCRIPT" "$@"
}

sshd() {
  [ $# -eq 3 ] || fail 'usage: ci-matrix.sh sshd NAME PORT KEYDIR'
  name=$1
  port=$2
  keydir=$3
  mkdir -p "$keydir"
  key="$keydir/id_ed25519"
  [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C provision-ci-matrix -f "$key"
  target "$name" sshd "$port" < "$key.pub" >&2
  # sshd forks into the background before it listens: wait for its host key.
  tries=0
  while :; do
    if ssh-keyscan -T 2 -p "$port" -t ed25519 127.0.0.1 > "$keydir/known_hosts.new" 2> /dev/null && [ -s "$keydir/known_hosts.new" ]; then break; fi
    tries=$((tries + 1))
    [ "$tries" -lt "$SSHD_WAIT_TRIES" ] || fail "sshd in $name did not answer on 127.0.0.1:$port within $SSHD_WAIT_TRIES s"
    sleep 1
  done
  mv -f "$keydir/known_hosts.new" "$keydir/known_hosts"
  printf 'PROVISION_MATRIX_TARGET=127.0.0.1:%s\n' "$port"
  printf 'PROVISION_MATRIX_KEY=%s\n' "$key"
  printf 'PROVISION_MATRIX_KNOWN_HOSTS=%s\n' "$keydir/known_hosts"
}

remove() {
  [ $# -eq 1 ] || fail 'usage: ci-matrix.sh remove NAME'
  docker rm --force "$1" > /dev/null 2>&1 || true
}

command=${1:-}
[ $# -eq 0 ] || shift
case $command in
  create) create "$@" ;;
  target) target "$@" ;;
  sshd) sshd "$@" ;;
  remove) remove "$@" ;;
  *) fail "usage: ci-matrix.sh create|target|sshd|remove ... (not '$command')" ;;
esac
