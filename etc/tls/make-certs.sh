#!/usr/bin/env bash
# A small private CA for intent's TLS hops (etcd clients and peers, the API), with openssl (Debian: openssl).
#
# usage: etc/tls/make-certs.sh --dir DIR ca
#        etc/tls/make-certs.sh --dir DIR cert NAME [--ip ADDR]... [--dns NAME]...
#
# 'ca' makes DIR/ca.pem and DIR/ca-key.pem (EC P-256, 10 years). 'cert' makes DIR/NAME.pem and DIR/NAME-key.pem
# signed by that CA: CN=NAME, the given IP and DNS subject alternative names, usable as server and client
# certificate (etcd members use one certificate for both ends of a peer connection), 825 days. Keys are
# PKCS#8 PEM, mode 600, as etcd, jetcd and the API read them. Existing files are kept, so it is safe to run
# again; delete a certificate to remake it. Keep ca-key.pem off the hosts: they need only ca.pem.
set -euo pipefail

dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ -n "$dir" ] && [ $# -ge 1 ] || { echo "make-certs: --dir DIR and a command (ca, cert NAME) are required (see --help)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-certs: openssl not found: apt-get install -y openssl" >&2; exit 1; }
mkdir -p "$dir"

new_key() { (umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null); mv "$1.tmp" "$1"; }

case "$1" in
  ca)
    [ -f "$dir/ca.pem" ] && { echo "kept $dir/ca.pem"; exit 0; }
    new_key "$dir/ca-key.pem"
    openssl req -x509 -new -key "$dir/ca-key.pem" -sha256 -days 3650 -subj "/CN=intent CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$dir/ca.pem.tmp"
    mv "$dir/ca.pem.tmp" "$dir/ca.pem"
    echo "made $dir/ca.pem"
    ;;
  cert)
    [ $# -ge 2 ] || { echo "make-certs: cert needs a NAME" >&2; exit 2; }
    name="$2"; shift 2
    [[ "$name" =~ ^[A-Za-z0-9]([-.A-Za-z0-9]*[A-Za-z0-9])?$ ]] || { echo "make-certs: '$name' is not a usable certificate name" >&2; exit 2; }
    [ -f "$dir/ca.pem" ] && [ -f "$dir/ca-key.pem" ] || { echo "make-certs: no CA in $dir: run 'make-certs.sh --dir $dir ca' first" >&2; exit 1; }
    sans=()
    while [ $# -gt 0 ]; do
      case "$1" in
        --ip) sans+=("IP:$2"); shift 2 ;;
        --dns) sans+=("DNS:$2"); shift 2 ;;
        *) echo "make-certs: unknown option $1" >&2; exit 2 ;;
      esac
    done
    [ -f "$dir/$name.pem" ] && { echo "kept $dir/$name.pem"; exit 0; }
    new_key "$dir/$name-key.pem"
    ext="$(mktemp)"; csr="$(mktemp)"
    trap 'rm -f "$ext" "$csr"' EXIT
    {
      echo "basicConstraints=critical,CA:FALSE"
      echo "keyUsage=critical,digitalSignature,keyEncipherment"
      echo "extendedKeyUsage=serverAuth,clientAuth"
      if [ ${#sans[@]} -gt 0 ]; then (IFS=,; echo "subjectAltName=${sans[*]}"); fi
    } > "$ext"
    openssl req -new -key "$dir/$name-key.pem" -subj "/CN=$name" -out "$csr"
    openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -sha256 -extfile "$ext" -out "$dir/$name.pem.tmp" 2>/dev/null
    mv "$dir/$name.pem.tmp" "$dir/$name.pem"
    echo "made $dir/$name.pem"
    ;;
  *) echo "make-certs: unknown command $1 (ca, cert NAME)" >&2; exit 2 ;;
esac
