package io.galore4j.quant;

/**
 * Packs b-bit codes (b = 2, 3, 4) into a little-endian bit stream: code i occupies bits
 * [i·b, (i+1)·b). Eight codes fill exactly b bytes, so 3-bit codes take 3 bytes per 8 (true
 * 3 bits). Every call starts at a code index that is a multiple of 8 (block starts are), and a
 * trailing partial group of fewer than 8 codes only occurs at the end of the stream.
 */
final class BitPacking {
    private BitPacking() {
    }

    static int bytes(int bits, int codes) {
        return (int) (((long) codes * bits + 7) >>> 3);
    }

    /** Writes codes[0 .. n) as the stream's codes firstCode … firstCode + n − 1. */
    static void pack(byte[] codes, int n, int bits, byte[] dst, int firstCode) {
        if (bits == 4) {
            pack4(codes, n, dst, firstCode >>> 1);
            return;
        }
        int byteIndex = (int) ((long) firstCode * bits >>> 3);
        int mask = (1 << bits) - 1;
        int k = 0;
        for (; k + 8 <= n; k += 8) {
            long word = 0;
            for (int j = 0; j < 8; j++) {
                word |= (long) (codes[k + j] & mask) << (bits * j);
            }
            for (int j = 0; j < bits; j++) {
                dst[byteIndex++] = (byte) (word >>> (8 * j));
            }
        }
        if (k < n) {
            long word = 0;
            for (int j = 0; k + j < n; j++) {
                word |= (long) (codes[k + j] & mask) << (bits * j);
            }
            int tailBytes = bytes(bits, n - k);
            for (int j = 0; j < tailBytes; j++) {
                dst[byteIndex++] = (byte) (word >>> (8 * j));
            }
        }
    }

    /** Reads the stream's codes firstCode … firstCode + n − 1 into codes[0 .. n). */
    static void unpack(byte[] src, int firstCode, int n, int bits, byte[] codes) {
        if (bits == 4) {
            unpack4(src, firstCode >>> 1, n, codes);
            return;
        }
        int byteIndex = (int) ((long) firstCode * bits >>> 3);
        int mask = (1 << bits) - 1;
        int k = 0;
        for (; k < n; k += 8) {
            int count = Math.min(8, n - k);
            int wordBytes = count == 8 ? bits : bytes(bits, count);
            long word = 0;
            for (int j = 0; j < wordBytes; j++) {
                word |= (long) (src[byteIndex++] & 0xFF) << (8 * j);
            }
            for (int j = 0; j < count; j++) {
                codes[k + j] = (byte) ((word >>> (bits * j)) & mask);
            }
        }
    }

    /** 4 bits: code 2k in the low nibble, 2k + 1 in the high nibble of byte k. */
    private static void pack4(byte[] codes, int n, byte[] dst, int b) {
        int k = 0;
        for (; k + 1 < n; k += 2) {
            dst[b + (k >>> 1)] = (byte) ((codes[k] & 0xF) | (codes[k + 1] << 4));
        }
        if (k < n) {
            dst[b + (k >>> 1)] = (byte) (codes[k] & 0xF);
        }
    }

    private static void unpack4(byte[] src, int b, int n, byte[] codes) {
        int k = 0;
        for (; k + 1 < n; k += 2) {
            int c = src[b + (k >>> 1)];
            codes[k] = (byte) (c & 0xF);
            codes[k + 1] = (byte) ((c >>> 4) & 0xF);
        }
        if (k < n) {
            codes[k] = (byte) (src[b + (k >>> 1)] & 0xF);
        }
    }
}
