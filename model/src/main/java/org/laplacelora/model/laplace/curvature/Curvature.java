package org.laplacelora.model.laplace.curvature;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * K-FAC curvature of every LoRA matrix under one convention, over N training examples: the G ⊗ A
 * blocks of the GGN (= Fisher) of the summed loss. Curvatures of disjoint data merge.
 */
public final class Curvature {
    private final CurvatureConvention convention;
    private final FisherType fisher;
    private final int sketchRank;
    private final Map<String, KfacFactors> blocks = new LinkedHashMap<>();
    private long examples;

    Curvature(CurvatureConvention convention, FisherType fisher, int sketchRank, List<LoraBlock> layout) {
        this.convention = convention;
        this.fisher = fisher;
        this.sketchRank = sketchRank;
        for (LoraBlock b : layout) {
            blocks.put(b.name(), new KfacFactors(b, sketchRank));
        }
    }

    public CurvatureConvention convention() {
        return convention;
    }

    public FisherType fisher() {
        return fisher;
    }

    public int sketchRank() {
        return sketchRank;
    }

    /** N, the number of training examples the curvature was summed over. */
    public long examples() {
        return examples;
    }

    void countExamples(long n) {
        examples += n;
    }

    public Map<String, KfacFactors> blocks() {
        return Collections.unmodifiableMap(blocks);
    }

    KfacFactors block(String name) {
        return blocks.get(name);
    }

    /** Adds the curvature of disjoint data (e.g. another worker's partition). */
    public void merge(Curvature other) {
        if (other.convention != convention || other.sketchRank != sketchRank || !other.blocks.keySet().equals(blocks.keySet())) {
            throw new IllegalArgumentException("cannot merge curvatures of different conventions, ranks or adapters");
        }
        blocks.forEach((name, f) -> f.merge(other.blocks.get(name)));
        examples += other.examples;
    }
}
