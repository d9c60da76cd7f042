#!/usr/bin/env bash
# The local stack: Apache Kafka (KRaft, single node), Redis and Jaeger v2, installed and run natively.
#
#   stack.sh install [comp]   fetch Kafka jars (Maven), build Jaeger (Go), install redis-server (apt)
#   stack.sh up [comp...]     install what is missing, start what is down, wait for real health checks
#   stack.sh down             stop what this stack started
#   stack.sh status           one line per component
#   stack.sh logs [component] tail the logs
#
# Components: kafka, redis, jaeger, smtp (an aiosmtpd sink delivering into .stack/mail, a Maildir).
#
# Every failure ends in one line on stderr that says what is wrong and where to look.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STATE=${SAGALINE_STACK_DIR:-$ROOT/.stack}
CACHE=${SAGALINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sagaline}
PYTHON=${SAGALINE_PYTHON:-$ROOT/.venv/bin/python}
LOGS=$STATE/logs
RUN=$STATE/run

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/kafka/pom.xml")
JAEGER_VERSION=$(sed -n 's:^\s*github.com/jaegertracing/jaeger \(v[^ ]*\).*:\1:p' "$HERE/jaeger/go.mod" | head -n1)
KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs
JAEGER_BIN=$CACHE/jaeger-$JAEGER_VERSION/jaeger

KAFKA_PORT=${SAGALINE_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${SAGALINE_KAFKA_CONTROLLER_PORT:-9093}
REDIS_PORT=${SAGALINE_REDIS_PORT:-6379}
SMTP_PORT=${SAGALINE_SMTP_PORT:-8025}
MAILDIR=$STATE/mail
# Fixed by deploy/local/jaeger/config.yaml: OTLP gRPC, OTLP HTTP, query HTTP, query gRPC, health.
JAEGER_PORTS=(4317 4318 16686 16685 13133)

KAFKA_DEADLINE=${SAGALINE_KAFKA_DEADLINE:-90}
REDIS_DEADLINE=${SAGALINE_REDIS_DEADLINE:-15}
JAEGER_DEADLINE=${SAGALINE_JAEGER_DEADLINE:-30}
SMTP_DEADLINE=${SAGALINE_SMTP_DEADLINE:-15}

die() { echo "stack: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

need_tool() { # need_tool NAME HINT
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH: $2"
}

# --- ports and processes ----------------------------------------------------------------------
port_owner() { # prints "name (pid N)" of the process listening on 127.0.0.1:PORT, empty if free
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1 || true)
  [ -n "$line" ] || return 0
  local who
  who=$(grep -o 'users:(("[^"]*",pid=[0-9]*' <<<"$line" | sed 's/users:(("\([^"]*\)",pid=\([0-9]*\)/\1 (pid \2)/' || true)
  echo "${who:-an unknown process}"
}

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid" || true; }
alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

check_port_free() { # check_port_free COMPONENT PORT ENVVAR
  local owner
  owner=$(port_owner "$2")
  [ -z "$owner" ] || die "$1 cannot start: port $2 is taken by $owner; stop it or set $3"
}

spawn() { # spawn COMPONENT LOGFILE CMD... : start detached, remember the pid
  mkdir -p "$RUN" "$LOGS"
  setsid "${@:3}" >>"$2" 2>&1 </dev/null &
  echo $! >"$RUN/$1.pid"
}

wait_healthy() { # wait_healthy COMPONENT DEADLINE LOGFILE
  local start=$SECONDS
  until probe "$1" >/dev/null 2>&1; do
    alive "$1" || die "$1 exited during start-up; see $3"
    [ $((SECONDS - start)) -lt "$2" ] || die "$1 did not become healthy within ${2}s; see $3"
    sleep 0.5
  done
  say "$1 up in $((SECONDS - start))s ($(probe "$1" 2>&1))"
}

probe() {
  [ -x "$PYTHON" ] || die "no Python environment at $PYTHON: run 'make install' first"
  SAGALINE_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT SAGALINE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 \
    SAGALINE_SMTP_PORT=$SMTP_PORT "$PYTHON" "$HERE/probe.py" "$1" --timeout 2
}

# --- install ----------------------------------------------------------------------------------
install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian packages"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null \
      || die "apt-get could not install redis-server"
  else
    die "redis-server not found on PATH: install Debian's redis-server package"
  fi
}

install_kafka() {
  [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  need_tool mvn "install Apache Maven (apt-get install maven) to fetch the Kafka jars"
  say "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS"
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime >"$STATE/mvn.log" 2>&1 \
    || die "Maven could not fetch the Kafka jars; see $STATE/mvn.log"
  rm -rf "$KAFKA_LIBS" && mv "$tmp" "$KAFKA_LIBS"
}

install_jaeger() {
  [ -x "$JAEGER_BIN" ] && return 0
  need_tool go "install the Go toolchain to build Jaeger $JAEGER_VERSION"
  say "building Jaeger $JAEGER_VERSION with Go into $JAEGER_BIN (a few minutes on a cold cache)"
  mkdir -p "$(dirname "$JAEGER_BIN")"
  (cd "$HERE/jaeger" && go build -o "$JAEGER_BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger) \
    >"$STATE/go-build.log" 2>&1 || die "go build of Jaeger failed; see $STATE/go-build.log"
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
}

install_for() { # install_for COMPONENT...
  mkdir -p "$STATE" "$CACHE"
  need_tool ss "install iproute2 (apt-get install iproute2) for port checks"
  local c
  for c in "$@"; do
    case "$c" in
      kafka)
        need_tool java "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless) to run Kafka"
        install_kafka ;;
      jaeger) install_jaeger ;;
      redis) install_redis ;;
      smtp) [ -x "$PYTHON" ] || die "no Python environment at $PYTHON: run 'make install' first" ;;
      *) die "unknown component '$c' (kafka, redis, jaeger, smtp)" ;;
    esac
  done
}

# --- components -------------------------------------------------------------------------------
kafka_config() {
  cat >"$STATE/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/kafka/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
}

up_kafka() {
  if alive kafka && probe kafka >/dev/null 2>&1; then say "kafka already up"; return 0; fi
  check_port_free kafka "$KAFKA_PORT" SAGALINE_KAFKA_PORT
  check_port_free kafka "$KAFKA_CONTROLLER_PORT" SAGALINE_KAFKA_CONTROLLER_PORT
  mkdir -p "$STATE/kafka/data"
  kafka_config
  local cp="$KAFKA_LIBS/*" log=$LOGS/kafka.log
  if [ ! -f "$STATE/kafka/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$log") || die "kafka storage tool failed; see $log"
    java -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/kafka/server.properties" \
      >>"$log" 2>&1 || die "formatting Kafka storage failed; see $log"
  fi
  spawn kafka "$LOGS/kafka.out" java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
    -cp "$cp" kafka.Kafka "$STATE/kafka/server.properties"
  wait_healthy kafka "$KAFKA_DEADLINE" "$log"
}

up_redis() {
  if alive redis && probe redis >/dev/null 2>&1; then say "redis already up"; return 0; fi
  check_port_free redis "$REDIS_PORT" SAGALINE_REDIS_PORT
  mkdir -p "$STATE/redis"
  spawn redis "$LOGS/redis.out" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" \
    --appendonly yes --appendfsync everysec --save "" --daemonize no --logfile "$LOGS/redis.log"
  wait_healthy redis "$REDIS_DEADLINE" "$LOGS/redis.log"
}

up_jaeger() {
  if alive jaeger && probe jaeger >/dev/null 2>&1; then say "jaeger already up"; return 0; fi
  local port
  for port in "${JAEGER_PORTS[@]}"; do check_port_free jaeger "$port" "deploy/local/jaeger/config.yaml"; done
  spawn jaeger "$LOGS/jaeger.log" "$JAEGER_BIN" --config "file:$HERE/jaeger/config.yaml"
  wait_healthy jaeger "$JAEGER_DEADLINE" "$LOGS/jaeger.log"
}

up_smtp() {
  # A local SMTP sink (aiosmtpd) that delivers every message into a Maildir the tests and demo read.
  if alive smtp && probe smtp >/dev/null 2>&1; then say "smtp already up"; return 0; fi
  check_port_free smtp "$SMTP_PORT" SAGALINE_SMTP_PORT
  mkdir -p "$MAILDIR/tmp" "$MAILDIR/new" "$MAILDIR/cur"
  spawn smtp "$LOGS/smtp.log" "$PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$MAILDIR"
  wait_healthy smtp "$SMTP_DEADLINE" "$LOGS/smtp.log"
}

down_one() {
  local pid
  pid=$(pid_of "$1")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then rm -f "$RUN/$1.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  local start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge 30 ]; then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  rm -f "$RUN/$1.pid"
  say "$1 stopped"
}

status_one() {
  local detail
  if detail=$(probe "$1" 2>&1); then
    echo "$1: up ($detail)"
  elif alive "$1"; then
    echo "$1: starting or unhealthy (pid $(pid_of "$1")): $detail"
  else
    echo "$1: down"
    return 1
  fi
}

COMPONENTS=(redis jaeger kafka smtp)

case "${1:-}" in
  install)
    selected=("${@:2}")
    [ ${#selected[@]} -gt 0 ] || selected=(kafka jaeger redis)
    install_for "${selected[@]}" ;;
  up)
    start=$SECONDS
    selected=("${@:2}")
    [ ${#selected[@]} -gt 0 ] || selected=(kafka jaeger redis smtp)
    install_for "${selected[@]}"
    for c in redis jaeger smtp kafka; do
      [[ " ${selected[*]} " == *" $c "* ]] && "up_$c"
    done
    say "stack up in $((SECONDS - start))s (Kafka 127.0.0.1:$KAFKA_PORT, Redis 127.0.0.1:$REDIS_PORT, SMTP 127.0.0.1:$SMTP_PORT -> $MAILDIR, Jaeger UI http://127.0.0.1:16686)"
    ;;
  down)
    for c in kafka smtp jaeger redis; do down_one "$c"; done ;;
  status)
    rc=0
    for c in "${COMPONENTS[@]}"; do status_one "$c" || rc=1; done
    exit $rc ;;
  logs)
    if [ -n "${2:-}" ]; then
      case "$2" in
        kafka) tail -n "${LINES:-100}" "$LOGS/kafka.log" ;;
        redis) tail -n "${LINES:-100}" "$LOGS/redis.log" ;;
        jaeger) tail -n "${LINES:-100}" "$LOGS/jaeger.log" ;;
        smtp) tail -n "${LINES:-100}" "$LOGS/smtp.log" ;;
        *) die "unknown component '$2' (kafka, redis, jaeger, smtp)" ;;
      esac
    else
      for f in "$LOGS"/kafka.log "$LOGS"/redis.log "$LOGS"/jaeger.log "$LOGS"/smtp.log; do
        [ -f "$f" ] && { echo "==> $f <=="; tail -n "${LINES:-30}" "$f"; }
      done
    fi ;;
  *) die "usage: stack.sh install|up|down|status|logs [kafka|redis|jaeger|smtp]" ;;
esac
