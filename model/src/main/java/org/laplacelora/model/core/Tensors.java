package org.laplacelora.model.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Conversions between DJL arrays and Java arrays, and Java numbers as factors autograd can keep. */
public final class Tensors {
    private Tensors() {}

    /** Token ids as the int64 indices DJL's gather wants. */
    public static long[] toLongs(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return l;
    }

    /** A 2-d array's rows in float64. */
    public static double[][] rows(NDArray a) {
        long[] s = a.getShape().getShape();
        double[] flat = a.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] out = new double[(int) s[0]][(int) s[1]];
        for (int i = 0; i < out.length; i++) {
            System.arraycopy(flat, i * out[i].length, out[i], 0, out[i].length);
        }
        return out;
    }

    /**
     * {@code a} × {@code factor}, safe to differentiate. DJL's {@code a.mul(number)} wraps the number in a tensor over a
     * Java buffer and frees it after the product, but autograd keeps that tensor for the backward, which then reads
     * whatever has since been written there (garbage gradients, now and then NaN); a converted copy owns its memory.
     */
    public static NDArray times(NDArray a, double factor) {
        try (NDArray overJavaMemory = a.getManager().create(factor);
             NDArray scalar = overJavaMemory.toType(a.getDataType(), true)) {
            return a.mul(scalar);
        }
    }

    /** Σ a² in float64. */
    public static double squaredNorm(NDArray a) {
        double s = 0;
        for (double v : a.toType(DataType.FLOAT64, false).toDoubleArray()) {
            s += v * v;
        }
        return s;
    }
}
