#!/bin/sh
# Makes a container of a real distribution a provisioning target: it runs INSIDE the container, as
# root, copied there by scripts/ci-matrix.sh (which the CI matrix workflow calls, and the tests
# here call the same way against a Debian 12 container). Plain POSIX sh: CentOS 7's bash, dash and
# busybox run it alike.
#
#   ci-matrix-target.sh vault-repos [ROOT]
#       CentOS 7 only (anything else is left alone): its mirrors are gone, so every yum repository
#       file under ROOT/etc/yum.repos.d stops using mirrorlist and takes its baseurl from
#       vault.centos.org. Running it again changes nothing.
#   ci-matrix-target.sh sshd PORT
#       installs what is missing (openssh-server, iproute; nothing when both are there), makes the
#       host keys, authorizes the public key(s) read from stdin for root, and starts sshd on
#       127.0.0.1:PORT (the container shares the host's network: loopback only).
set -eu

say() { printf 'ci-matrix-target: %s\n' "$*"; }
fail() {
  printf 'ci-matrix-target: %s\n' "$*" >&2
  exit 1
}

# "ID VERSION_ID" from ROOT/etc/os-release ("unknown" when there is none), read in a subshell so
# that its variables stay there.
os_release() {
  if [ -r "$1/etc/os-release" ]; then
    (. "$1/etc/os-release" && printf '%s %s\n' "${ID:-unknown}" "${VERSION_ID:-}")
  else
    echo unknown
  fi
}

vault_repos() {
  root=${1:-}
  release=$(os_release "$root")
  case $release in
    'centos 7' | 'centos 7.'*) ;;
    *)
      say "not CentOS 7 ($release): its repositories stay as they are"
      return 0
      ;;
  esac
  rewritten=0
  for repo in "$root"/etc/yum.repos.d/*.repo; do
    [ -f "$repo" ] || continue
    if ! grep -q -e '^mirrorlist=' -e 'mirror\.centos\.org' "$repo"; then continue; fi
    # The temp file is renamed over the original only when sed succeeded.
    sed -e 's/^mirrorlist=/#mirrorlist=/' \
      -e 's|^#*[[:space:]]*baseurl=http://mirror\.centos\.org/|baseurl=http://vault.centos.org/|' \
      "$repo" > "$repo.provision-tmp"
    mv -f "$repo.provision-tmp" "$repo"
    say "${repo#"$root"}: mirrorlist off, baseurl on vault.centos.org"
    rewritten=$((rewritten + 1))
  done
  [ -n "$(ls "$root"/etc/yum.repos.d/*.repo 2>/dev/null)" ] || fail "CentOS 7 without repository files in $root/etc/yum.repos.d"
  [ "$rewritten" -gt 0 ] || say 'every repository uses vault.centos.org already'
}

install_missing() {
  missing=''
  [ -x /usr/sbin/sshd ] || missing="$missing sshd"
  command -v ssh-keygen > /dev/null 2>&1 || missing="$missing ssh-keygen"
  command -v ip > /dev/null 2>&1 || missing="$missing ip"
  if [ -z "$missing" ]; then
    say 'openssh-server and iproute are installed already'
    return 0
  fi
  say "installing what provides:$missing"
  if command -v apt-get > /dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive
    export DEBIAN_FRONTEND
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server iproute2 > /dev/null
  elif command -v dnf > /dev/null 2>&1; then
    dnf install -y -q openssh-server iproute
  elif command -v yum > /dev/null 2>&1; then
    yum install -y -q openssh-server iproute
  else
    fail 'no apt-get, dnf or yum to install openssh-server with'
  fi
}

start_sshd() {
  port=${1:-}
  case $port in
    '' | *[!0-9]*) fail "sshd: the port must be a number, not '$port'" ;;
  esac
  keys=$(grep -E '^(ssh-|ecdsa-)[a-z0-9-]+ [A-Za-z0-9+/=]+' || true)
  [ -n "$keys" ] || fail 'sshd: give the public key to authorize on stdin'
  install_missing
  # The privilege separation directory (Debian, Ubuntu); /run is empty in a new container.
  mkdir -p /run/sshd
  ssh-keygen -A > /dev/null
  (
    umask 077
    mkdir -p /root/.ssh
    printf '%s\n' "$keys" >> /root/.ssh/authorized_keys
  )
  # A container may not set the audit login uid: with pam_loginuid required, every login fails.
  if [ -f /etc/pam.d/sshd ] && grep -q '^session[[:space:]]*required[[:space:]]*pam_loginuid\.so' /etc/pam.d/sshd; then
    sed 's/^\(session[[:space:]]*\)required\([[:space:]]*pam_loginuid\.so\)/\1optional\2/' /etc/pam.d/sshd > /etc/pam.d/sshd.provision-tmp
    mv -f /etc/pam.d/sshd.provision-tmp /etc/pam.d/sshd
  fi
  # Command line options come before the configuration file's: they win.
  /usr/sbin/sshd -o "ListenAddress=127.0.0.1:$port" -o PermitRootLogin=prohibit-password \
    -o PasswordAuthentication=no -o PubkeyAuthentication=yes -o AuthorizedKeysFile=.ssh/authorized_keys
  say "sshd started on 127.0.0.1:$port ($(os_release ''))"
}

command=${1:-}
[ $# -eq 0 ] || shift
case $command in
  vault-repos) vault_repos "${1:-}" ;;
  sshd) start_sshd "${1:-}" ;;
  *) fail "usage: ci-matrix-target.sh vault-repos [ROOT] | sshd PORT (not '$command')" ;;
esac
