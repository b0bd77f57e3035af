#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, broker+controller in one process) on loopback, for development
# and CI. The broker comes from Maven Central (no Docker here, and Kafka is not on npm or apt).
#
#   scripts/kafka.sh fetch     resolve kafka_2.13 and its dependencies into the cache (idempotent)
#   scripts/kafka.sh start     fetch if needed, format the log dir once, start, wait until it answers
#   scripts/kafka.sh stop      SIGTERM, wait, SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   scripts/kafka.sh kill9     SIGKILL at once (fault tests); `start` recovers the same log dir
#   scripts/kafka.sh restart   stop + start
#   scripts/kafka.sh status    exit 0 when running and answering, 1 otherwise
#   scripts/kafka.sh clean     stop and delete the log dir (topics and offsets are gone)
#   scripts/kafka.sh env       print the variables below as resolved
#
# Variables (defaults in brackets):
#   KAFKA_VERSION [4.3.1]              kafka_2.13 version from Maven Central
#   HELIOS_CACHE_DIR [~/.cache/helios] jars go to $HELIOS_CACHE_DIR/kafka-<version>/libs
#   KAFKA_PORT [9092]                  PLAINTEXT listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT [port+1]     KRaft controller listener on 127.0.0.1
#   KAFKA_STATE_DIR [$HELIOS_CACHE_DIR/kafka-run-<port>]  log dir, server.properties, kafka.log, kafka.pid
#   KAFKA_HEAP [512m]                  -Xmx and -Xms of the broker JVM
#   KAFKA_START_TIMEOUT [120]          seconds `start` waits for the broker to answer
#   KAFKA_STOP_TIMEOUT [60]            seconds `stop` waits after SIGTERM before SIGKILL
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
# log4j-core comes with kafka_2.13; the slf4j 1.x binding does not (the distribution adds it), so
# without it the broker would log nothing. Keep its version equal to the log4j-core Kafka pulls in.
LOG4J_VERSION="${KAFKA_LOG4J_VERSION:-2.25.4}"
CACHE_DIR="${HELIOS_CACHE_DIR:-$HOME/.cache/helios}"
LIBS_DIR="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
STATE_DIR="${KAFKA_STATE_DIR:-$CACHE_DIR/kafka-run-$PORT}"
HEAP="${KAFKA_HEAP:-512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-60}"

DATA_DIR="$STATE_DIR/data"
PROPS="$STATE_DIR/server.properties"
LOG4J_CONFIG="$STATE_DIR/log4j2.properties"
LOG_FILE="$STATE_DIR/kafka.log"
PID_FILE="$STATE_DIR/kafka.pid"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

cmd_fetch() {
  if [[ -f "$LIBS_DIR/.complete" ]]; then
    say "kafka $KAFKA_VERSION already in $LIBS_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed to fetch Kafka from Maven Central)"
  mkdir -p "$CACHE_DIR"
  local work
  work="$(mktemp -d "$CACHE_DIR/.kafka-fetch.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.helios</groupId>
  <artifactId>kafka-broker-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  say "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION with mvn"
  if ! mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
    tail -n 40 "$work/mvn.log" >&2
    die "mvn could not resolve kafka_2.13:$KAFKA_VERSION"
  fi
  [[ -f "$work/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  touch "$work/libs/.complete"
  # Rename into place so a fetch cut short never looks complete.
  mkdir -p "$(dirname "$LIBS_DIR")"
  rm -rf "$LIBS_DIR"
  mv "$work/libs" "$LIBS_DIR"
  say "kafka $KAFKA_VERSION: $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $LIBS_DIR"
}

# The pid file's process, when it is alive and still our broker (pids get reused).
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  printf '%s\n' "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

write_config() {
  mkdir -p "$STATE_DIR"
  cat >"$PROPS" <<EOF
# Written by scripts/kafka.sh; rewritten at every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
# One broker: every replication factor and ISR minimum is 1.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# Helios creates its topics with the partition counts from its config.
auto.create.topics.enable=false
# A lone consumer should not wait 3 s for more members before it gets partitions.
group.initial.rebalance.delay.ms=0
EOF
  cat >"$LOG4J_CONFIG" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = warn
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
EOF
}

classpath() { printf '%s/*' "$LIBS_DIR"; }

format_log_dir() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(java -cp "$(classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  [[ -n "$cluster_id" ]] || die "StorageTool random-uuid printed nothing"
  say "formatting $DATA_DIR (cluster id $cluster_id)"
  java -Xmx256m -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$(classpath)" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" >"$STATE_DIR/format.log" 2>&1 \
    || { cat "$STATE_DIR/format.log" >&2; die "formatting $DATA_DIR failed"; }
}

wait_until_answering() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "the broker exited during start; last lines of $LOG_FILE:"
      tail -n 40 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    # "Kafka Server started" is logged once the broker has registered with the controller and
    # unfenced, i.e. it serves metadata and produce requests; the port check catches a wrong address.
    if grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null && port_open; then
      return 0
    fi
    sleep 0.25
  done
  say "the broker did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT}s; last lines of $LOG_FILE:"
  tail -n 40 "$LOG_FILE" >&2
  exit 1
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    say "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  command -v java >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  cmd_fetch
  if port_open; then die "127.0.0.1:$PORT is taken by another process (set KAFKA_PORT)"; fi
  write_config
  format_log_dir
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  # setsid + nohup: the broker outlives the shell (and the CI step) that started it.
  setsid nohup java "-Xmx$HEAP" "-Xms$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$(classpath)" kafka.Kafka "$PROPS" \
    >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  say "started pid $pid (log $LOG_FILE); waiting for 127.0.0.1:$PORT"
  wait_until_answering "$pid"
  say "kafka $KAFKA_VERSION answering on 127.0.0.1:$PORT (pid $pid)"
}

wait_exit() {
  local pid="$1" timeout="$2" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
  return 0
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid"
  if ! wait_exit "$pid" "$STOP_TIMEOUT"; then
    say "still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

cmd_kill9() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    return 0
  fi
  kill -KILL "$pid"
  wait_exit "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$PID_FILE"
  say "killed (SIGKILL, pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open; then
    printf 'running pid=%s bootstrap=127.0.0.1:%s version=%s state=%s\n' "$pid" "$PORT" "$KAFKA_VERSION" "$STATE_DIR"
    return 0
  fi
  printf 'stopped bootstrap=127.0.0.1:%s version=%s state=%s\n' "$PORT" "$KAFKA_VERSION" "$STATE_DIR"
  return 1
}

cmd_clean() {
  cmd_stop
  rm -rf "$STATE_DIR"
  say "removed $STATE_DIR"
}

cmd_env() {
  printf 'KAFKA_VERSION=%s\nLIBS_DIR=%s\nKAFKA_PORT=%s\nKAFKA_CONTROLLER_PORT=%s\nKAFKA_STATE_DIR=%s\nHELIOS_KAFKA_BROKERS=127.0.0.1:%s\n' \
    "$KAFKA_VERSION" "$LIBS_DIR" "$PORT" "$CONTROLLER_PORT" "$STATE_DIR" "$PORT"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill9) cmd_kill9 ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  clean) cmd_clean ;;
  env) cmd_env ;;
  *)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
