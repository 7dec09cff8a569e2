#!/usr/bin/env bash
# A Spark standalone cluster on this machine's loopback for data-parallel training
# (galore train --workers N --master spark://127.0.0.1:7077): one master and two workers, each a
# JVM started from the distributed module's Maven classpath (there is no Spark distribution).
#
#   scripts/spark-standalone.sh start   builds the distributed module if needed, starts the three
#                                       JVMs and waits until both workers have registered
#   scripts/spark-standalone.sh stop    stops the processes this script started
#
# Environment: GALORE_SPARK_DIR holds the processes' ids, logs and work directories (default
# /tmp/galore-spark); GALORE_SPARK_PORT the master's port (default 7077); GALORE_SPARK_WORKERS the
# number of workers (default 2); GALORE_SPARK_WORKER_MEMORY each worker's memory (default 4g);
# GALORE_SPARK_UI_PORT the master's web page (default 8080; its /json/ is how this script sees the
# workers register). Needs curl.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${GALORE_SPARK_DIR:-/tmp/galore-spark}"
PORT="${GALORE_SPARK_PORT:-7077}"
WORKERS="${GALORE_SPARK_WORKERS:-2}"
MEMORY="${GALORE_SPARK_WORKER_MEMORY:-4g}"
UI_PORT="${GALORE_SPARK_UI_PORT:-8080}"
MASTER="spark://127.0.0.1:$PORT"
CP_FILE="$ROOT/distributed/target/classpath.txt"

die() { echo "spark-standalone: error: $*" >&2; exit 2; }

classpath() {
  if [ ! -f "$CP_FILE" ] || ! ls "$ROOT"/distributed/target/distributed-*.jar >/dev/null 2>&1; then
    echo "spark-standalone: building the distributed module..." >&2
    (cd "$ROOT" && mvn -B -q -Pdistributed -DskipTests package dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt >"$DIR/build.log" 2>&1) || die "build failed; see $DIR/build.log"
  fi
  echo "$(ls "$ROOT"/distributed/target/distributed-*.jar | head -1):$(cat "$CP_FILE")"
}

opens=()
for pkg in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
    java.util.concurrent java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs \
    sun.security.action sun.util.calendar; do
  opens+=(--add-opens "java.base/$pkg=ALL-UNNAMED")
done

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# launch NAME CLASS ARGS...: starts one JVM in the background, its id in $DIR/NAME.pid
launch() {
  local name="$1"; shift
  # the workers start executor JVMs from the Maven jars: Spark's test mode allows that, with
  # spark.test.home standing in for a distribution's directory
  SPARK_TESTING=1 SPARK_SCALA_VERSION=2.13 SPARK_HOME="$DIR/home" \
    nohup java -Xmx1g "${opens[@]}" -Dspark.test.home="$DIR/home" -cp "$CP" "$@" \
    >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive_workers() {
  curl -s "http://127.0.0.1:$UI_PORT/json/" 2>/dev/null | grep -o '"aliveworkers" *: *[0-9]*' | grep -o '[0-9]*$' || echo 0
}

# wait_until WHAT COMMAND...: waits up to 60 s for COMMAND to succeed while every JVM started lives
wait_until() {
  local what="$1" f; shift
  for _ in $(seq 1 120); do
    "$@" && return 0
    for f in "$DIR"/*.pid; do
      running "$f" || die "$(basename "$f" .pid) exited while waiting for $what; see $DIR/$(basename "$f" .pid).log"
    done
    sleep 0.5
  done
  die "$what did not happen within 60 s; see the logs in $DIR"
}

workers_registered() { [ "$(alive_workers)" -ge "$WORKERS" ]; }

start() {
  mkdir -p "$DIR/home"
  running "$DIR/master.pid" && die "a cluster started by this script is running ($DIR/master.pid); stop it first"
  port_open "$PORT" && die "port $PORT on 127.0.0.1 is in use (set GALORE_SPARK_PORT)"
  port_open "$UI_PORT" && die "port $UI_PORT on 127.0.0.1 is in use (set GALORE_SPARK_UI_PORT)"
  CP="$(classpath)"
  local cores=$(( $(nproc) / WORKERS )); [ "$cores" -ge 1 ] || cores=1
  launch master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port "$UI_PORT"
  wait_until "the master's port $PORT" port_open "$PORT"
  for i in $(seq 1 "$WORKERS"); do
    mkdir -p "$DIR/work-$i"
    launch "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --webui-port 0 \
      --cores "$cores" --memory "$MEMORY" --work-dir "$DIR/work-$i" "$MASTER"
  done
  wait_until "$WORKERS workers to register" workers_registered
  echo "spark-standalone: $MASTER with $WORKERS workers of $cores cores and $MEMORY (logs in $DIR)"
}

stop() {
  local any=0 f pid
  for f in "$DIR"/worker-*.pid "$DIR"/master.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      any=1
    fi
    rm -f "$f"
  done
  [ "$any" = 1 ] && echo "spark-standalone: stopped" || echo "spark-standalone: nothing was running"
}

mkdir -p "$DIR"
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/spark-standalone.sh start|stop" >&2; exit 2 ;;
esac
