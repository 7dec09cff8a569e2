package io.galore4j.trainer.data;

/**
 * Finds the first byte of a corpus file that is not text: a NUL byte, or a byte where the input
 * stops being well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates U+D800..U+DFFF, nothing
 * above U+10FFFF, no sequence cut off at the end of the file).
 */
final class TextCheck {

    /** The first non-text byte: its offset in the file and why it is not text. */
    record Problem(long offset, String reason) {
    }

    private TextCheck() {
    }

    /** The first problem in {@code b}, or null when every byte belongs to UTF-8 text without NUL. */
    static Problem firstProblem(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                if (c == 0) {
                    return new Problem(i, "a NUL byte");
                }
                i++;
                continue;
            }
            int more; // continuation bytes after the lead byte
            int lo = 0x80;
            int hi = 0xBF; // the range of the first continuation byte
            if (c >= 0xC2 && c <= 0xDF) {
                more = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                more = 2;
                lo = c == 0xE0 ? 0xA0 : 0x80; // E0 80..9F would be overlong
                hi = c == 0xED ? 0x9F : 0xBF; // ED A0..BF would be a surrogate
            } else if (c >= 0xF0 && c <= 0xF4) {
                more = 3;
                lo = c == 0xF0 ? 0x90 : 0x80; // F0 80..8F would be overlong
                hi = c == 0xF4 ? 0x8F : 0xBF; // F4 90.. would be above U+10FFFF
            } else {
                return new Problem(i, String.format("byte 0x%02X, which is not UTF-8", c));
            }
            for (int k = 1; k <= more; k++) {
                if (i + k >= b.length) {
                    return new Problem(i, "a UTF-8 sequence cut off by the end of the file");
                }
                int d = b[i + k] & 0xff;
                if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) {
                    return new Problem(i, String.format("an invalid UTF-8 sequence starting with byte 0x%02X", c));
                }
            }
            i += more + 1;
        }
        return null;
    }
}
