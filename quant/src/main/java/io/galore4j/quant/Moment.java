package io.galore4j.quant;

/** Which Adam moment a state codec stores. */
public enum Moment {
    /** First moment m: signed. */
    FIRST,
    /** Second moment v: non-negative; codecs reject negative input. */
    SECOND
}
