#!/usr/bin/env bash
# Makes the TLS and SASL material of a secured local test broker (scripts/kafka.sh up --secure) in
# one folder, once: a throw-away CA, a broker certificate for 127.0.0.1/localhost, a client
# certificate for mutual TLS, the broker's PKCS12 keystore/truststore, and random passwords.
#
#   scripts/kafka/certs.sh DIR
#
# What DIR holds afterwards (PEM files are what kstream/kafkajs and kcat read):
#   ca.pem                   the CA certificate clients trust (kafka.tls.ca_file)
#   client.pem, client.key   client certificate and its unencrypted key (kafka.tls.cert_file/key_file)
#   client.enc.key           the same key encrypted (PKCS#8, AES-256) with the passphrase in
#   client.key.password      (kafka.tls.key_password_file)
#   sasl.username            "kstream": a SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN user
#   sasl.password            its password (kafka.sasl.password_file)
#   broker.p12, truststore.p12, store.password   the broker's keystore, truststore and their password
#   ca.key, broker.*         the CA's and broker's keys: never needed by a client
# Nothing here protects anything real: the CA lives next to its certificates, for tests only.
set -euo pipefail

dir=${1:?usage: scripts/kafka/certs.sh DIR}
say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# A marker written last makes a half-made folder (interrupted run) count as missing.
[ -f "$dir/.complete" ] && exit 0
command -v openssl >/dev/null || die "openssl is needed to make the test certificates"
command -v keytool >/dev/null || die "keytool (from the JDK) is needed to make the broker's truststore"

tmp="$dir.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
cd "$tmp"
log="$tmp/openssl.log"

# Hex passwords: safe inside JAAS quotes, properties files and command lines without escaping.
random() { openssl rand -hex 16; }
echo kstream >sasl.username
random >sasl.password
random >store.password
random >client.key.password
store_password=$(cat store.password)

run() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; die "certificate step failed: $*"; }; }

# Ten years: a test cluster's certificates should never be the reason a test fails one day.
days=3650
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=kstream test CA" \
  -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# Args: name, subject, extensions. Each leaf certificate is signed by the CA above.
leaf() {
  local name=$1 subject=$2 extensions=$3
  run openssl req -newkey rsa:2048 -nodes -sha256 -subj "$subject" -keyout "$name.key" -out "$name.csr"
  printf '%s\n' "$extensions" >"$name.ext"
  run openssl x509 -req -sha256 -days "$days" -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}
# The broker is reached as 127.0.0.1 (advertised listeners) or localhost: both must verify.
leaf broker "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
leaf client "/CN=kstream-client" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"

# The client key once more, encrypted, to exercise kafka.tls.key_password_file.
run openssl pkcs8 -topk8 -v2 aes-256-cbc -in client.key -out client.enc.key -passout file:client.key.password

# The broker's keystore (its key, its certificate and the CA chain) and truststore (the CA only;
# keytool marks the entry as trusted, which openssl's pkcs12 cannot do for Java).
run openssl pkcs12 -export -name broker -in broker.pem -inkey broker.key -certfile ca.pem \
  -out broker.p12 -passout "pass:$store_password"
run keytool -importcert -noprompt -alias kstream-ca -file ca.pem -keystore truststore.p12 \
  -storetype PKCS12 -storepass "$store_password"

rm -f "$log" ca.srl
chmod 600 ./*
cd - >/dev/null
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
touch "$dir/.complete"
