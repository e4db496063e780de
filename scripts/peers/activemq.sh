#!/usr/bin/env bash
# Starts Debian's ActiveMQ from a given activemq.xml (the one the activemq action wrote), with
# its base, conf and data in DIR, not as a system service; waits until STOMP_PORT accepts a TCP
# connection; stops it when WATCH_PID exits.
#   scripts/peers/activemq.sh DIR ACTIVEMQ_XML STOMP_PORT [WATCH_PID]
set -euo pipefail
dir=$1 xml=$2 port=$3 watch=${4:-}
mkdir -p "$dir"/{conf,data,tmp}
cp /etc/activemq/instances-available/main/log4j2.properties "$dir/conf/" 2>/dev/null || true
start=$(date +%s%N)
java -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -Djava.io.tmpdir="$dir/tmp" \
  -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$dir" -Dactivemq.conf="$dir/conf" -Dactivemq.data="$dir/data" \
  -Dlog4j2.configurationFile="$dir/conf/log4j2.properties" \
  -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$xml" > "$dir/stdout.log" 2>&1 &
pid=$!
echo "$pid" > "$dir/pid"
if [ -n "$watch" ]; then
  ( while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done; kill "$pid" 2>/dev/null ) >/dev/null 2>&1 &
fi
for _ in $(seq 1 240); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.5)" 2>/dev/null; then
    echo "activemq up on 127.0.0.1:$port in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "activemq exited:" >&2; tail -40 "$dir/stdout.log" >&2; exit 1; }
  sleep 0.5
done
echo "activemq did not listen on $port in 120 s" >&2; tail -40 "$dir/stdout.log" >&2; kill "$pid"; exit 1
