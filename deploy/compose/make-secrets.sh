#!/usr/bin/env bash
# What docker-compose.prod.yml reads, made once on the machine that runs it (never committed):
#   $DIR/prod.env                       every password, random (pass it with --env-file), the look-up token's hash
#   $DIR/lookup-token                   the bearer token of the services' /v1/ look-ups
#   $DIR/kafka/ca.crt, ca.key           a CA of this deployment (keep ca.key offline once done)
#   $DIR/kafka/broker.p12               the broker's key and certificate (names kafka, localhost)
#   $DIR/kafka/kafka_server_jaas.conf   the Kafka users (operator, applications, workshops, funding)
# Usage: deploy/compose/make-secrets.sh [DIR]   (default ./secrets; refuses to overwrite)
# With a CA of your own, replace ca.crt and broker.p12 (same names, same keystore password).
set -euo pipefail

dir="${1:-${PROGRAMME_SECRETS_DIR:-./secrets}}"
if [ -e "$dir/prod.env" ]; then
    echo "$dir/prod.env exists: remove $dir first to make new secrets" >&2
    exit 1
fi
mkdir -p "$dir/kafka"
umask 077

# Hex: no character that a DSN, a JAAS file or the Kafka image's variable rendering would mangle.
secret() { openssl rand -hex 24; }

users=(operator applications workshops funding)
# The services are given the look-up token's hash only (<SVC>_LOOKUP_TOKEN_SHA256), never the token.
printf %s "$(secret)" >"$dir/lookup-token"
lookup_hash=$(sha256sum <"$dir/lookup-token" | cut -d' ' -f1)
{
    echo "POSTGRES_PASSWORD=$(secret)"
    for service in applications workshops funding; do
        echo "${service^^}_DB_PASSWORD=$(secret)"
        echo "${service^^}_LOOKUP_TOKEN_SHA256=$lookup_hash"
    done
    for user in "${users[@]}"; do
        echo "${user^^}_KAFKA_PASSWORD=$(secret)"
    done
    echo "KAFKA_KEYSTORE_PASSWORD=$(secret)"
    echo "GRAFANA_ADMIN_PASSWORD=$(secret)"
} >"$dir/prod.env"
# shellcheck disable=SC1091
. "$dir/prod.env"

cd "$dir/kafka"
openssl req -x509 -newkey rsa:3072 -sha256 -days 825 -nodes -subj "/CN=programme Kafka CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:3072 -sha256 -nodes -subj "/CN=kafka" -keyout broker.key -out broker.csr 2>/dev/null
printf 'subjectAltName=DNS:kafka,DNS:localhost\nextendedKeyUsage=serverAuth\n' >broker.ext
openssl x509 -req -sha256 -days 825 -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -extfile broker.ext -out broker.crt 2>/dev/null
openssl pkcs12 -export -name broker -inkey broker.key -in broker.crt -certfile ca.crt \
    -passout "pass:$KAFKA_KEYSTORE_PASSWORD" -out broker.p12
rm -f broker.csr broker.ext broker.key ca.srl

{
    echo "KafkaServer {"
    echo "    org.apache.kafka.common.security.plain.PlainLoginModule required"
    for user in "${users[@]}"; do
        password_variable="${user^^}_KAFKA_PASSWORD"
        echo "    user_${user}=\"${!password_variable}\""
    done
    echo "    ;"
    echo "};"
} >kafka_server_jaas.conf

# The broker runs as uid 1000 in apache/kafka, the services as uid 10001: the CA is public, the
# keystore and the JAAS file are for the broker only.
chmod 644 ca.crt
chmod 640 broker.p12 kafka_server_jaas.conf
chown 1000 broker.p12 kafka_server_jaas.conf 2>/dev/null || echo "note: chown 1000 $dir/kafka/{broker.p12,kafka_server_jaas.conf} (the broker's uid) as root" >&2
chmod 755 .
echo "secrets written to $dir; start with: docker compose --env-file $dir/prod.env -f docker-compose.yml -f docker-compose.prod.yml up -d --build"
