package io.galore4j.trainer.plan;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes as users write them for a memory budget ({@code galore plan --budget}, {@code train.budget}):
 * a number and a unit. KiB, MiB, GiB, TiB and the one-letter K, M, G, T (as the JVM's -Xmx reads
 * them) are powers of 1024; KB, MB, GB, TB are powers of 1000; B or no unit is bytes. Case does
 * not matter; a fraction is allowed ({@code 1.5GiB}).
 */
public final class ByteSize {

    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-z]*)\\s*");

    private ByteSize() {
    }

    /**
     * The bytes {@code text} names, rounded down.
     *
     * @throws IllegalArgumentException naming the text when it is not a size or not above zero
     */
    public static long parse(String text) {
        Matcher m = text == null ? null : SIZE.matcher(text.toLowerCase(Locale.ROOT));
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: give a number and a unit, e.g. 16GiB, 512MiB, 16G");
        }
        long unit = switch (m.group(2)) {
            case "", "b" -> 1L;
            case "k", "kib" -> 1L << 10;
            case "m", "mib" -> 1L << 20;
            case "g", "gib" -> 1L << 30;
            case "t", "tib" -> 1L << 40;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            default -> throw new IllegalArgumentException("'" + text + "': unknown unit '" + m.group(2)
                    + "' (KiB, MiB, GiB, TiB or K, M, G, T are powers of 1024; KB, MB, GB, TB of 1000)");
        };
        double bytes = Double.parseDouble(m.group(1)) * unit;
        if (bytes < 1 || bytes >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("'" + text + "' is not a size between 1 byte and 8 EiB");
        }
        return (long) bytes;
    }

    /** Bytes as MiB below 1 GiB, else GiB, two decimals (as {@code galore memory} prints them). */
    public static String format(long bytes) {
        double mib = bytes / 1048576.0;
        return mib < 1024 ? String.format(Locale.ROOT, "%.2f MiB", mib) : String.format(Locale.ROOT, "%.2f GiB", mib / 1024);
    }
}
