package org.laplacelora.model.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/** Keys and values of the positions already fed to {@link Llama#step}, per layer [1, kv, T, hs]. */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private long length;

    KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Number of positions held. */
    public long length() {
        return length;
    }

    NDArray appendKeys(int layer, NDArray k) {
        keys[layer] = append(keys[layer], k);
        return keys[layer];
    }

    NDArray appendValues(int layer, NDArray v) {
        values[layer] = append(values[layer], v);
        return values[layer];
    }

    private NDArray append(NDArray old, NDArray fresh) {
        NDArray all = old == null ? fresh.duplicate() : old.concat(fresh, 2);
        NDScope.unregister(all);
        all.attach(manager);
        if (old != null) {
            old.close();
        }
        return all;
    }

    void advance(int tokens) {
        length += tokens;
    }

    @Override
    public void close() {
        manager.close();
    }
}
