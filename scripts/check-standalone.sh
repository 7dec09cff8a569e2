#!/usr/bin/env bash
# Exercises docs/run-files.md's cluster commands against a Spark standalone master on this
# machine's loopback (scripts/spark-standalone.sh: a master and two workers): the same 2-worker
# micro run (20 steps) through `galore train --master spark://127.0.0.1:7077`, through
# spark-submit, and on local-cluster (no master); the three models must be equal bit for bit.
#
#   scripts/check-standalone.sh [DIR]   runs into DIR (default: a new temporary directory)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$(mktemp -d /tmp/galore-standalone-check.XXXXXX)}"
cd "$ROOT"
[ ! -e "$OUT/standalone" ] && [ ! -e "$OUT/submit" ] && [ ! -e "$OUT/local-cluster" ] \
  || { echo "check-standalone: error: $OUT already holds runs; give another directory" >&2; exit 2; }
mkdir -p "$OUT"
SETTINGS=(--set train.steps=20 --set train.eval_every=10 --set train.ckpt_every=10 --set train.batch_size=8)

scripts/spark-standalone.sh start
trap 'scripts/spark-standalone.sh stop' EXIT

echo "check-standalone: galore train --master spark://127.0.0.1:7077"
bin/galore train --workers 2 --master spark://127.0.0.1:7077 "${SETTINGS[@]}" --out "$OUT/standalone"

echo "check-standalone: spark-submit"
mvn -B -q -Pdistributed -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
CP="$(ls distributed/target/distributed-*.jar):$(cat distributed/target/classpath.txt)"
CP="$CP:$(ls experiments/target/experiments-*.jar):$(cat experiments/target/classpath.txt)"
OPENS=""; for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
    java.util.concurrent java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs \
    sun.security.action sun.util.calendar; do OPENS="$OPENS --add-opens java.base/$p=ALL-UNNAMED"; done
BLAS=""; case ":$CP:" in *"/mkl-"*"-redist.jar:"*) BLAS="-Dorg.bytedeco.openblas.load=mkl_rt" ;; esac
# shellcheck disable=SC2086
java -Xmx4g $OPENS $BLAS -cp "$CP" org.apache.spark.deploy.SparkSubmit \
  --master spark://127.0.0.1:7077 --class io.galore4j.experiments.cli.Main \
  --jars "$(echo "$CP" | tr ':' '\n' | grep -v '/experiments-[^/]*\.jar$' | paste -sd, -)" \
  "$(ls experiments/target/experiments-*.jar)" train --workers 2 "${SETTINGS[@]}" --out "$OUT/submit"

echo "check-standalone: local-cluster (no master)"
bin/galore train --workers 2 "${SETTINGS[@]}" --out "$OUT/local-cluster"

for run in standalone submit; do
  cmp "$OUT/$run/model.safetensors" "$OUT/local-cluster/model.safetensors" \
    || { echo "check-standalone: $run's model differs from local-cluster's" >&2; exit 1; }
done
echo "check-standalone: the three runs' models are equal bit for bit ($OUT)"
