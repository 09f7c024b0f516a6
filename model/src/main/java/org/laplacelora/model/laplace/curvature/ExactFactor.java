package org.laplacelora.model.laplace.curvature;

import org.laplacelora.model.core.Linalg;

/** A dense float64 factor Σ x xᵀ: for the small side of a LoRA block (r × r, C × C) or any side ≤ the sketch rank. */
public final class ExactFactor implements KronFactor {
    private final int dim;
    private final double[] gram; // row-major dim × dim

    public ExactFactor(int dim) {
        this.dim = dim;
        this.gram = new double[dim * dim];
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public void add(double[] vectors, int rows) {
        for (int r = 0; r < rows; r++) {
            int base = r * dim;
            for (int i = 0; i < dim; i++) {
                double xi = vectors[base + i];
                if (xi == 0) {
                    continue;
                }
                int row = i * dim;
                for (int j = 0; j < dim; j++) {
                    gram[row + j] += xi * vectors[base + j];
                }
            }
        }
    }

    /** Adds an already-formed Gram matrix (dim × dim, row-major). */
    public void addGram(double[] g) {
        for (int i = 0; i < gram.length; i++) {
            gram[i] += g[i];
        }
    }

    @Override
    public void add(FactorEigen factor) {
        requireSide(factor.dim());
        addGram(factor.dense());
    }

    @Override
    public void merge(KronFactor other) {
        requireSide(other.dim());
        addGram(other instanceof ExactFactor e ? e.gram : other.eigen().dense());
    }

    private void requireSide(int side) {
        if (side != dim) {
            throw new IllegalArgumentException("cannot merge factors of sides " + dim + " and " + side);
        }
    }

    @Override
    public void scale(double c) {
        for (int i = 0; i < gram.length; i++) {
            gram[i] *= c;
        }
    }

    public double[] dense() {
        return gram.clone();
    }

    /** All dim eigenpairs, eigenvalues clamped at 0 (rounding can make a PSD sum slightly indefinite). */
    @Override
    public FactorEigen eigen() {
        Linalg.Eigen e = Linalg.symmetricEigen(gram, dim);
        double[] values = e.values().clone();
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.max(values[i], 0);
        }
        return new FactorEigen(dim, values, e.vectors());
    }
}
