package dev.longconv.ops.spi;

import java.util.Arrays;

/**
 * The exact online schedule of a causal stream over a kernel of Lk taps (zero-latency non-uniformly
 * partitioned convolution, after Gardner 1995): lags [0, head) are summed directly at every step from a ring of
 * recent inputs; lags [S_j, 2 S_j), S_j = head * 2^j, form segment j, applied by FFT once per S_j steps to the
 * block of the last S_j inputs, whose contributions then reach outputs from the next step on (a segment's offset
 * equals its size, so no output waits). Every (input, lag) pair is covered once: a step costs O(head) plus, amortized,
 * O(log S_j) per segment, O(log^2 Lk) in all; the worst step (every segment firing) costs O(Lk log Lk).
 *
 * <p>Blocks are aligned to an origin O: the position where the stream was last flushed (all earlier inputs'
 * contributions to every future output accumulated), so after a bulk push the schedule restarts there.
 * With Lk &lt;= head there are no segments: a direct ring buffer.
 *
 * @param taps        Lk
 * @param head        lags summed directly every step ({@code min(Lk, chosen head)})
 * @param segments    S_j for each segment, ascending; empty for a direct ring buffer
 * @param historySize ring length of past inputs: a power of two >= max(head, largest S_j)
 * @param pendingSize ring length of accumulated future outputs: a power of two >= max(2 largest S_j, Lk) (a bulk push
 *                    leaves contributions for the next Lk - 1 outputs there)
 */
public record StreamSchedule(int taps, int head, int[] segments, int historySize, int pendingSize) {

    public StreamSchedule {
        segments = segments.clone();
    }

    /**
     * The schedule for {@code taps} taps with direct head {@code head} (a power of two): a direct ring buffer when
     * {@code taps <= directMax}, segments otherwise.
     */
    public static StreamSchedule of(int taps, int head, int directMax) {
        if (taps < 1) throw new IllegalArgumentException("StreamSchedule: taps " + taps + " < 1");
        if (head < 1 || Integer.bitCount(head) != 1) throw new IllegalArgumentException("StreamSchedule: head " + head + " is no power of two");
        if (taps <= Math.max(directMax, head)) {
            int ring = taps == 1 ? 1 : Integer.highestOneBit(taps - 1) << 1;
            return new StreamSchedule(taps, taps, new int[0], ring, ring);
        }
        int count = 0;
        for (long s = head; s < taps; s *= 2) count++;
        int[] seg = new int[count];
        for (int j = 0; j < count; j++) seg[j] = head << j;
        int largest = seg[count - 1];
        int history = Math.max(head, largest);
        int pending = Integer.highestOneBit(Math.max(2 * largest, taps) - 1) << 1;
        return new StreamSchedule(taps, head, seg, history, pending);
    }

    @Override
    public int[] segments() {
        return segments.clone();
    }

    public int segmentCount() {
        return segments.length;
    }

    /** S_j. */
    public int segmentSize(int j) {
        return segments[j];
    }

    /** The kernel's taps that segment j holds: lags [S_j, min(2 S_j, Lk)). */
    public int segmentTaps(int j) {
        return Math.min(2 * segments[j], taps) - segments[j];
    }

    /** Whether this schedule is a plain ring buffer (no FFT segments). */
    public boolean isDirect() {
        return segments.length == 0;
    }

    /**
     * How many segments fire after the input at {@code sinceOrigin - 1} (counting from the origin) was taken: the
     * segments j with sinceOrigin a multiple of S_j, which are always j = 0 .. count-1.
     */
    public int firing(long sinceOrigin) {
        if (segments.length == 0 || sinceOrigin <= 0) return 0;
        int c = 0;
        while (c < segments.length && sinceOrigin % segments[c] == 0) c++;
        return c;
    }

    /** The inputs of segment j's current, incomplete block (not yet applied) at {@code sinceOrigin} inputs after the origin. */
    public int pendingInputs(int j, long sinceOrigin) {
        return (int) (sinceOrigin % segments[j]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StreamSchedule s && s.taps == taps && s.head == head && Arrays.equals(s.segments, segments)
                && s.historySize == historySize && s.pendingSize == pendingSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(segments) * 31 + taps * 7 + head;
    }

    @Override
    public String toString() {
        if (isDirect()) return "direct ring buffer of " + taps + " taps";
        return "partitioned: direct head of " + head + " lags, FFT segments of " + segments[0] + ".." + segments[segments.length - 1]
                + " (" + segments.length + ") over " + taps + " taps";
    }
}
