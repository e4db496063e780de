#!/usr/bin/env bash
# Starts Debian's rabbitmq-server on 127.0.0.1 from a temp folder, for the tests: STOMP, STOMP over
# TLS (a test CA made here with openssl) and the management API, not as a system service. Prints
# "STOMP_PORT STOMPS_PORT MGMT_PORT" when it is up (with an administrator fixture-admin/fixture-Pass-0); stops it (and its epmd) when WATCH_PID exits.
#   scripts/peers/rabbitmq.sh DIR [WATCH_PID]
set -euo pipefail
dir=$1 watch=${2:-}
mkdir -p "$dir"/{mnesia,log,tls}
dir=$(cd "$dir" && pwd)
# Erlang writes a crash dump into the working folder (say, when the watchdog below stops a broker
# whose folder its caller already removed): never into the caller's.
cd "$dir"
read -r amqp stomp stomps mgmt dist epmd < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

# A CA, the broker's certificate (localhost), a client certificate, and a second CA with its own
# client certificate that the broker must refuse.
tls=$dir/tls
make_ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" -keyout "$tls/$1.key" -out "$tls/$1.pem" 2>/dev/null; }
make_cert() { # name CN ca [san]
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$tls/$1.key" -out "$tls/$1.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$2" > "$tls/$1.ext"
  openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$3.pem" -CAkey "$tls/$3.key" -CAcreateserial -days 2 \
    -extfile "$tls/$1.ext" -out "$tls/$1.pem" 2>/dev/null
}
make_ca ca "ec2-boot-init test CA"
make_ca other-ca "another CA"
make_cert server localhost ca
make_cert client node1.example.com ca
make_cert other-client node1.example.com other-ca
chmod 0644 "$tls"/*

cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp
stomp.listeners.tcp.1 = 127.0.0.1:$stomp
stomp.listeners.ssl.1 = 127.0.0.1:$stomps
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
log.console = false
log.file.level = info
CONF
echo "[rabbitmq_stomp,rabbitmq_management]." > "$dir/enabled_plugins"
export HOME=$dir RABBITMQ_BASE=$dir RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
  RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_PID_FILE=$dir/pid \
  RABBITMQ_NODENAME=ec2boot$$@localhost RABBITMQ_DIST_PORT=$dist ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$epmd \
  RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config ERL_CRASH_DUMP_SECONDS=0
echo "[]." > "$dir/advanced.config"
start=$(date +%s%N)
/usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/log/stdout.log" 2>&1 &
pid=$!
if [ -n "$watch" ]; then
  ( cd /; while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    /usr/lib/rabbitmq/bin/rabbitmqctl stop >/dev/null 2>&1 || kill "$pid"
    ERL_EPMD_PORT=$epmd epmd -kill || true ) >/dev/null 2>&1 &
fi
if ! timeout 120 /usr/lib/rabbitmq/bin/rabbitmqctl wait --timeout 120 "$dir/pid" > "$dir/log/wait.log" 2>&1; then
  echo "rabbitmq did not start:" >&2; tail -30 "$dir/log/stdout.log" "$dir/log/wait.log" >&2; kill "$pid" 2>/dev/null; exit 1
fi
for _ in $(seq 1 120); do
  curl -sf -u guest:guest "http://127.0.0.1:$mgmt/api/overview" >/dev/null && break
  sleep 0.5
done
# An administrator the tests use to build their own vhosts and users, so none depends on guest.
ctl=/usr/lib/rabbitmq/bin/rabbitmqctl
$ctl add_user fixture-admin fixture-Pass-0 >/dev/null && $ctl set_user_tags fixture-admin administrator >/dev/null
echo "rabbitmq up on 127.0.0.1 (stomp $stomp, stomp+ssl $stomps, management $mgmt) in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
echo "$stomp $stomps $mgmt"
