package io.galore4j.distributed;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Runs N workers together as one Spark barrier stage, each a member of one {@link Collective}.
 * Barrier mode gang-schedules the N tasks (all start or none, and a failed task fails the whole
 * stage), which is what a collective needs; the driver starts a fresh {@link CollectiveTracker}
 * for the stage and stops it when the stage ends, whether it succeeded or not.
 *
 * <p>Spark's own barrier calls are not used for the data: they rendezvous through the driver
 * with a polling interval of the order of a second, fit for start-up, never for every step.
 */
public final class BarrierWorkers {

    /**
     * The worker argument of XGBoost's collective that bounds, in seconds, how long one
     * socket wait of a ring operation lasts before the operation gives up.
     */
    static final String EXCHANGE_TIMEOUT_ARG = "dmlc_timeout";

    private BarrierWorkers() {
    }

    /** What one worker does with its membership; {@code partition} is its Spark partition. */
    @FunctionalInterface
    public interface Work extends Serializable {
        float[] run(Collective collective, int partition) throws Exception;
    }

    /** One worker's answer: its partition, its rank in the collective and what it returned. */
    public record Result(int partition, int rank, float[] data) implements Serializable {
    }

    /**
     * Runs {@code work} on {@code workers} barrier tasks and returns their results in partition
     * order. The cluster must offer at least {@code workers} task slots at once (Spark refuses
     * the stage otherwise); workers that have not all joined within {@code timeoutSeconds} fail.
     * A sum or broadcast waits for its peers as long as the native collective's default allows.
     */
    public static List<Result> run(JavaSparkContext sc, int workers, int timeoutSeconds, Work work) {
        return run(sc, workers, timeoutSeconds, 0, work);
    }

    /**
     * As {@link #run(JavaSparkContext, int, int, Work)}, and a sum or broadcast that waits for a
     * peer longer than {@code exchangeTimeoutSeconds} (when &gt; 0) gives up: the native ring
     * stops waiting and the call fails its sentinel check ({@link Collective}).
     */
    public static List<Result> run(JavaSparkContext sc, int workers, int timeoutSeconds, int exchangeTimeoutSeconds,
            Work work) {
        String host = sc.getConf().get("spark.driver.host", "127.0.0.1");
        try (CollectiveTracker tracker = CollectiveTracker.start(workers, host, timeoutSeconds)) {
            HashMap<String, Object> args = tracker.workerArgs();
            if (exchangeTimeoutSeconds > 0) {
                args.put(EXCHANGE_TIMEOUT_ARG, exchangeTimeoutSeconds);
            }
            RDD<Integer> slots = sc.parallelize(IntStream.range(0, workers).boxed().toList(), workers).rdd();
            ClassTag<Result> tag = ClassTag$.MODULE$.apply(Result.class);
            RDD<Result> results = slots.barrier().mapPartitions(new Task(args, work), false, tag);
            return results.toJavaRDD().collect();
        }
    }

    /** The body of one barrier task: join, run the work, leave. */
    private static final class Task implements Function1<Iterator<Integer>, Iterator<Result>>, Serializable {
        private static final long serialVersionUID = 1L;
        private final HashMap<String, Object> workerArgs;
        private final Work work;

        Task(HashMap<String, Object> workerArgs, Work work) {
            this.workerArgs = workerArgs;
            this.work = work;
        }

        @Override
        public Iterator<Result> apply(Iterator<Integer> ignored) {
            int partition = BarrierTaskContext.get().partitionId();
            try (Collective collective = Collective.join(workerArgs)) {
                float[] data = work.run(collective, partition);
                Result result = new Result(partition, collective.rank(), data);
                return CollectionConverters.asScala(List.of(result).iterator());
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("worker of partition " + partition + " failed: " + e.getMessage(), e);
            }
        }
    }
}
