package org.laplacelora.model.laplace.curvature;

import org.laplacelora.model.llama.Llama;

/**
 * One LoRA matrix as a block of the posterior: its weight is gDim × aDim (output side × input side),
 * its curvature G ⊗ A with G gDim × gDim and A aDim × aDim (row-major vec of the weight).
 * LoRA-A of a module is r × in; LoRA-B is out × r, the LM head's restricted to the C answer rows.
 */
public record LoraBlock(String module, char which, int gDim, int aDim) {
    public LoraBlock {
        if (which != 'A' && which != 'B') {
            throw new IllegalArgumentException("a LoRA block is A or B, got " + which);
        }
    }

    public String name() {
        return module + "." + which;
    }

    public int size() {
        return gDim * aDim;
    }

    public boolean isHead() {
        return module.equals(Llama.LM_HEAD);
    }
}
