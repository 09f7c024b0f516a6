package org.laplacelora.model.core;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Vector-Jacobian products with the graph kept, which DJL's public GradientCollector.backward cannot
 * do: several VJPs of one forward pass (one per answer logit, or per logit difference) need it.
 */
public final class Autograd {
    private static final ReentrantLock COLLECTING = new ReentrantLock();

    private Autograd() {}

    /**
     * A gradient collector, once no other thread holds one: DJL allows one per process at a time, and a
     * scorer and a refitter in one process (the demo) both need one. Closing it lets the next thread in.
     */
    public static GradientCollector collector() {
        COLLECTING.lock();
        try {
            GradientCollector gc = Engine.getInstance().newGradientCollector();
            return new GradientCollector() {
                private boolean closed;

                @Override
                public void backward(NDArray target) {
                    gc.backward(target);
                }

                @Override
                public void zeroGradients() {
                    gc.zeroGradients();
                }

                @Override
                public void close() {
                    if (!closed) {
                        closed = true;
                        try {
                            gc.close();
                        } finally {
                            COLLECTING.unlock();
                        }
                    }
                }
            };
        } catch (RuntimeException e) {
            COLLECTING.unlock();
            throw e;
        }
    }

    /**
     * Accumulates cotangentᵀ · ∂output/∂leaf into the gradient of every leaf that requires one.
     *
     * @param keepGraph true when another VJP of the same forward pass follows
     */
    public static void vjp(NDArray output, NDArray cotangent, boolean keepGraph) {
        JniUtils.backward((PtNDArray) output, (PtNDArray) cotangent, keepGraph, false);
    }

    /**
     * Runs {@code work} with graph recording off on this thread. PyTorch's grad mode is per thread and on by default
     * in a new one, where DJL's engine switched it off only on the thread that started it: an optimiser's in-place
     * update of a leaf that requires a gradient must run with it off.
     */
    public static void withoutGraph(Runnable work) {
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            work.run();
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    /** Switches graph recording off for the rest of this thread's life (a worker's, as on the engine's own thread). */
    public static void noGraphOnThisThread() {
        JniUtils.setGradMode(false);
    }

    /** Sets a leaf's accumulated gradient to zero. */
    public static void zeroGradient(NDArray leaf) {
        JniUtils.zeroGrad((PtNDArray) leaf);
    }
}
