package org.laplacelora.model.laplace;

/** A factor already in eigen form (a saved posterior's), read-only: it can be merged into others. */
record Eigenpairs(FactorEigen eigen) implements KronFactor {
    @Override
    public int dim() {
        return eigen.dim();
    }

    @Override
    public void add(double[] vectors, int rows) {
        throw new UnsupportedOperationException("a saved factor is read-only");
    }

    @Override
    public void merge(KronFactor other) {
        throw new UnsupportedOperationException("a saved factor is read-only");
    }

    @Override
    public void scale(double c) {
        throw new UnsupportedOperationException("a saved factor is read-only");
    }
}
