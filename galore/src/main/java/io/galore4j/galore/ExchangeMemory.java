package io.galore4j.galore;

import io.galore4j.projection.BasisCandidate;
import java.util.Map;

/**
 * The working memory one data-parallel worker's gradient exchange holds besides the optimizer's
 * account (docs/design.md §3.8, §3.9), from the parameter shapes and settings: what
 * {@link Exchange} allocates, and what the collective copies of each array it is handed. A bound:
 * the parts are added as if all were held at once.
 *
 * @param bucket    floats of the bucket of small full-rank gradients and of its exchanged copy
 *                  (its filled part: at most all small gradients)
 * @param handed    the most floats one call of {@link Replicas} is handed: the largest exchanged
 *                  array, or {@value Exchange#CHUNK} when one is larger (then exchanged in pieces)
 * @param pieces    floats of the pieces an array larger than one is exchanged in: the reused one of
 *                  {@value Exchange#CHUNK} and a last, shorter one; else the one array a large
 *                  full-rank gradient or a refresh's full gradient is copied into for the
 *                  collective; plus the scratch an accumulation is read through
 * @param collective floats the collective holds per call: {@value #COLLECTIVE_COPIES} arrays of
 *                  {@code handed} + 1 (the sentinel)
 * @param projected floats of the copy of the largest projected gradient R that is exchanged
 * @param refresh   floats of a refresh: the owner's m×n mean of the largest GaLore matrix (Fira's
 *                  owner proposes from the exchanged gradient itself), and
 *                  the largest broadcast basis (payload)
 */
public record ExchangeMemory(long bucket, long handed, long pieces, long collective, long projected, long refresh) {

    /**
     * Arrays the collective holds per call besides the one it is handed: its copy with the sentinel
     * element, the native side's direct buffer, and the new array the native call returns.
     */
    public static final int COLLECTIVE_COPIES = 3;

    /** The exchange of parameters of these shapes under these optimizer settings. */
    public static ExchangeMemory of(OptimSettings settings, Map<String, long[]> shapes) {
        long small = 0;
        long fullRank = 0;
        long projected = 0;
        long full = 0;
        long payload = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            ParamSettings p = settings.resolve(e.getKey(), shape);
            boolean apollo = p.apollo();
            boolean fira = p.fira();
            if (!p.galore() || apollo || fira) { // a full gradient (APOLLO and Fira: unbucketed, Exchange#meanFull)
                if (n <= Exchange.SMALL && !p.galore()) {
                    small += n;
                } else {
                    fullRank = Math.max(fullRank, n);
                }
            } else { // GaLore: R, and the owner's m×n mean at a refresh
                long[] r = p.side().projectedShape(shape[0], shape[1], p.rank());
                projected = Math.max(projected, r[0] * r[1]);
                full = Math.max(full, n);
            }
            if (p.galore() && !apollo) { // Fira's owner proposes from the exchanged mean itself
                payload = Math.max(payload, BasisCandidate.payloadFloats(p.basisBits(), p.rank(),
                        p.side().basisDimension(shape[0], shape[1]), BasisCandidate.singularValuesSent(p.rank())));
            }
        }
        long bucketCopy = Math.min(Exchange.BUCKET, small);
        long largest = Math.max(Math.max(fullRank, bucketCopy), Math.max(projected, Math.max(full, payload)));
        long handed = Math.min(Exchange.CHUNK, largest);
        long pieces = (largest > Exchange.CHUNK ? 2L * Exchange.CHUNK : Math.max(fullRank, full))
                + Chunks.SIZE;
        return new ExchangeMemory(Exchange.BUCKET + bucketCopy, handed, pieces,
                largest == 0 ? 0 : COLLECTIVE_COPIES * (handed + 1), projected, full + payload);
    }

    /** All parts in bytes (fp32). */
    public long bytes() {
        return 4 * (bucket + pieces + collective + projected + refresh);
    }
}
