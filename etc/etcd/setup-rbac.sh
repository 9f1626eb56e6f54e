#!/usr/bin/env bash
# Turns on etcd auth for intent and creates one user and role per host, so a host can read only its own
# slice and write only keys of its own: every key a host writes starts with a prefix naming that host.
#
# usage: etc/etcd/setup-rbac.sh --endpoints URL[,URL] --root-password-file FILE [--key-root /intent] \
#          --secrets-dir DIR HOST [HOST...]
#
# For each HOST it creates user HOST (password written to DIR/HOST.password, mode 600, unless that file
# exists already) with role intent-host-HOST:
#   read       /intent/assign/HOST/        (its slice)
#   read       /intent/slots/HOST/         (the rollout slots the leader granted it)
#   readwrite  /intent/status/HOST/        (its agents' statuses)
#   readwrite  /intent/live/HOST           (its liveness record)
#   readwrite  /intent/registration/HOST   (its own HostSpec: the leader copies it to hosts/HOST once)
#   readwrite  /intent/endpoints/HOST/     (setlive's endpoints, endpoints/HOST/<app>)
#   readwrite  /intent/rollout/HOST/       (setlive's rollout slot requests, rollout/HOST/<app>)
# and nothing else: not hosts/ (labels, capacity and drain are the operators' word), not other hosts' keys.
# Permissions of earlier versions that reached other hosts' keys (endpoints/, rollout/, hosts/HOST) are revoked.
# Plus users 'intent-leader' (read everything, write assign/ placement/ leader/ slots/ hosts/ apps/ channels/
# channel-status/: it grants rollout slots, copies registrations, moves apps that follow a release channel and
# the pointers of fed channels) and 'intent-api' (read everything, write apps/ hosts/ channels/ auth/tokens/
# idempotency/: the API stores admin-made tokens and the answers to Idempotency-Key requests there), and
# 'root'. Safe to run again: existing users and roles are kept, missing permissions are added. No password
# ever appears on a command line.
set -euo pipefail

endpoints="http://127.0.0.1:2379"; root_pw_file=""; key_root="/intent"; secrets=""
hosts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoints) endpoints="$2"; shift 2 ;;
    --root-password-file) root_pw_file="$2"; shift 2 ;;
    --key-root) key_root="$2"; shift 2 ;;
    --secrets-dir) secrets="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) echo "setup-rbac: unknown option $1" >&2; exit 2 ;;
    *) hosts+=("$1"); shift ;;
  esac
done
[ -n "$root_pw_file" ] && [ -n "$secrets" ] || { echo "setup-rbac: --root-password-file and --secrets-dir are required (see --help)" >&2; exit 2; }
command -v etcdctl >/dev/null || { echo "setup-rbac: etcdctl not found: apt-get install -y etcd-client" >&2; exit 1; }
for h in "${hosts[@]}"; do
  [[ "$h" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] && [ ${#h} -le 63 ] || { echo "setup-rbac: '$h' is not a DNS-label host name" >&2; exit 2; }
done
mkdir -p "$secrets"; chmod 700 "$secrets"
export ETCDCTL_API=3
# a loaded machine (or a bcrypt check per call with auth on) can take seconds: etcdctl's own 5 s is too short
export ETCDCTL_COMMAND_TIMEOUT="${ETCDCTL_COMMAND_TIMEOUT:-30s}" ETCDCTL_DIAL_TIMEOUT="${ETCDCTL_DIAL_TIMEOUT:-10s}"
root_pw="$(cat "$root_pw_file")"
# etcdctl reads a password from stdin up to the first blank
[ -n "$root_pw" ] && [[ ! "$root_pw" =~ [[:space:]] ]] || { echo "setup-rbac: the root password in $root_pw_file must be one word: no blanks" >&2; exit 2; }
auth_on=false
# etcdctl 3.4 has no 'auth status': with auth on, an anonymous request is refused with 'user name is empty'
probe="$(etcdctl --endpoints "$endpoints" user list 2>&1 || true)"
case "$probe" in *"user name is empty"*) auth_on=true ;; esac
# no password ever goes on a command line (ps shows it to every user): root's goes through etcdctl's
# environment, a new user's through stdin
ctl() {
  if $auth_on; then ETCDCTL_USER=root ETCDCTL_PASSWORD="$root_pw" etcdctl --endpoints "$endpoints" "$@"
  else etcdctl --endpoints "$endpoints" "$@"; fi
}
add_user() { # name password
  printf '%s\n' "$2" | ctl user add "$1" --interactive=false >/dev/null
}
# not grep -q: it may exit before etcdctl has written everything, and pipefail turns that SIGPIPE into "absent"
have_user() { ctl user list | grep -x "$1" >/dev/null; }
have_role() { ctl role list | grep -x "$1" >/dev/null; }
new_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24; }
ensure_user() { # name password-file
  local pw
  if [ ! -f "$2" ]; then (umask 077; new_password > "$2"); fi
  pw="$(cat "$2")"
  if ! have_user "$1"; then add_user "$1" "$pw"; fi
}
grant() { # role perm key [--prefix]
  ctl role grant-permission "$1" "$2" "$3" ${4:-} >/dev/null
}
revoke_if_held() { # role key [--prefix]: drops a permission an earlier version of this script granted
  local held
  if [ -n "${3:-}" ]; then held="$(ctl role get "$1" | grep -cF "(prefix $2)" || true)"
  else held="$(ctl role get "$1" | grep -cxF "	$2" || true)"; fi
  if [ "$held" != 0 ]; then ctl role revoke-permission "$1" "$2" ${3:-} >/dev/null; fi
}

if ! have_user root; then add_user root "$root_pw"; fi
have_role root || ctl role add root >/dev/null
ctl user grant-role root root >/dev/null

for h in "${hosts[@]}"; do
  role="intent-host-$h"
  have_role "$role" || ctl role add "$role" >/dev/null
  grant "$role" read "$key_root/assign/$h/" --prefix
  grant "$role" readwrite "$key_root/status/$h/" --prefix
  grant "$role" read "$key_root/slots/$h/" --prefix
  grant "$role" readwrite "$key_root/live/$h"
  grant "$role" readwrite "$key_root/registration/$h"
  grant "$role" readwrite "$key_root/endpoints/$h/" --prefix
  grant "$role" readwrite "$key_root/rollout/$h/" --prefix
  revoke_if_held "$role" "$key_root/hosts/$h"
  revoke_if_held "$role" "$key_root/endpoints/" --prefix
  revoke_if_held "$role" "$key_root/rollout/" --prefix
  ensure_user "$h" "$secrets/$h.password"
  ctl user grant-role "$h" "$role" >/dev/null
  echo "host $h: user $h, password in $secrets/$h.password"
done

have_role intent-leader || ctl role add intent-leader >/dev/null
grant intent-leader read "$key_root/" --prefix
for p in assign placement leader slots hosts apps channels channel-status; do grant intent-leader readwrite "$key_root/$p/" --prefix; done
ensure_user intent-leader "$secrets/intent-leader.password"
ctl user grant-role intent-leader intent-leader >/dev/null

have_role intent-api || ctl role add intent-api >/dev/null
grant intent-api read "$key_root/" --prefix
for p in apps hosts channels auth/tokens idempotency; do grant intent-api readwrite "$key_root/$p/" --prefix; done
ensure_user intent-api "$secrets/intent-api.password"
ctl user grant-role intent-api intent-api >/dev/null

if ! $auth_on; then ctl auth enable >/dev/null; echo "auth enabled"; fi
echo "done: every intent process now needs --etcd-user NAME --etcd-password-file $secrets/NAME.password"
