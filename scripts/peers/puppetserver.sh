#!/usr/bin/env bash
# Starts Debian's puppetserver on 127.0.0.1 from a temp folder, for the tests: its own confdir,
# ssldir, codedir and logs under DIR, a small JVM heap, and a site.pp whose catalog writes a
# file on the agent. Prints "PORT" when it answers; stops when WATCH_PID (the test process) exits.
#   scripts/peers/puppetserver.sh DIR PORT AUTOSIGN_EXECUTABLE [WATCH_PID]    (PORT 0: a free one)
set -euo pipefail
dir=$1 port=$2 autosign=$3 watch=${4:-}
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
mkdir -p "$dir"/{conf,code/environments/production/manifests,var,run,log,ssl,ca,tk}
conf=/etc/puppet/puppetserver/conf.d
cp "$conf"/{auth.conf,ca.conf,metrics.conf,web-routes.conf} "$dir/tk/"
cat > "$dir/tk/global.conf" <<CONF
global: { logging-config: $dir/logback.xml }
CONF
cat > "$dir/tk/webserver.conf" <<CONF
webserver: { client-auth: want, ssl-host: 127.0.0.1, ssl-port: $port }
CONF
cat > "$dir/tk/puppetserver.conf" <<CONF
jruby-puppet: {
    ruby-load-path: [/usr/lib/puppetserver/ruby/vendor_ruby]
    gem-home: $dir/var/jruby-gems
    gem-path: [$dir/var/jruby-gems, "/usr/lib/puppetserver/vendored-jruby-gems"]
    server-conf-dir: $dir/conf
    server-code-dir: $dir/code
    server-var-dir: $dir/var
    server-run-dir: $dir/run
    server-log-dir: $dir/log
    max-active-instances: 1
}
CONF
cat > "$dir/logback.xml" <<CONF
<configuration>
  <appender name="F" class="ch.qos.logback.core.FileAppender">
    <file>$dir/log/puppetserver.log</file>
    <encoder><pattern>%d %-5p [%c{2}] %m%n</pattern></encoder>
  </appender>
  <root level="info"><appender-ref ref="F"/></root>
</configuration>
CONF
cat > "$dir/conf/puppet.conf" <<CONF
[main]
ssldir = $dir/ssl
vardir = $dir/var
logdir = $dir/log
rundir = $dir/run
codedir = $dir/code
[server]
cadir = $dir/ca
certname = localhost
dns_alt_names = localhost
autosign = $autosign
CONF
# The catalog writes the file a test looks for, in the agent's --root (a fact the agent sends).
cat > "$dir/code/environments/production/manifests/site.pp" <<'CONF'
# This node's catalog fails on purpose: the agent exits 4 or 6.
node 'i-0fa11fa11fa11fa11' {
  exec { 'fails on purpose': command => '/bin/false' }
}
node default {
  file { "${facts['ec2boot_test_root']}/provisioned-by-puppet":
    ensure  => file,
    content => "catalog for ${trusted['certname']}\n",
  }
}
CONF
start=$(date +%s%N)
JAVA_ARGS="-Xms256m -Xmx512m" java -Xms256m -Xmx512m -XX:TieredStopAtLevel=1 -Djruby.logger.class=com.puppetlabs.jruby_utils.jruby.Slf4jLogger \
  -Djruby.lib=/usr/share/jruby/lib -jar /usr/share/puppetserver/puppetserver.jar \
  --config "$dir/tk" --bootstrap-config /etc/puppet/puppetserver/services.d \
  > "$dir/log/stdout.log" 2>&1 &
pid=$!
echo "$pid" > "$dir/pid"
if [ -n "$watch" ]; then
  ( while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done; kill "$pid" 2>/dev/null ) >/dev/null 2>&1 &
fi
for _ in $(seq 1 360); do
  if curl -sk -o /dev/null "https://127.0.0.1:$port/status/v1/simple" 2>/dev/null; then
    echo "puppetserver up on 127.0.0.1:$port in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
    echo "$port"; exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "puppetserver exited:" >&2; tail -30 "$dir/log/stdout.log" "$dir/log/puppetserver.log" >&2; exit 1; }
  sleep 0.5
done
echo "puppetserver did not answer in 180 s" >&2; kill "$pid"; exit 1
