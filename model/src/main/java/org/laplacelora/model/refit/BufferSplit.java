package org.laplacelora.model.refit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.laplacelora.model.tasks.EncodedExample;

/**
 * A refit's buffer in three disjoint parts, by construction (one shuffle, three consecutive ranges): fitting
 * (the mode and the curvature), tuning (λ, τ_f and the temperature) and gating (the acceptance test, never
 * seen by the tuning).
 */
public record BufferSplit(List<EncodedExample> fit, List<EncodedExample> tune, List<EncodedExample> gate) {
    public BufferSplit {
        fit = List.copyOf(fit);
        tune = List.copyOf(tune);
        gate = List.copyOf(gate);
    }

    /**
     * @param fitFraction of the buffer for fitting; {@code tuneFraction} for tuning; the rest gates
     * @param minGate the fewest gating rows a verdict may rest on
     */
    public static BufferSplit of(List<EncodedExample> buffer, double fitFraction, double tuneFraction, int minGate, long seed) {
        int n = buffer.size();
        if (n < minimumBuffer(fitFraction, tuneFraction, minGate)) {
            throw new IllegalArgumentException(String.format("a refit needs at least %d labelled examples (%.0f%% fit, %.0f%% tune, "
                    + "the rest, at least %d, gate); the buffer has %d", minimumBuffer(fitFraction, tuneFraction, minGate),
                    100 * fitFraction, 100 * tuneFraction, minGate, n));
        }
        int nFit = (int) Math.floor(fitFraction * n + 1e-9);
        int nTune = (int) Math.floor(tuneFraction * n + 1e-9);
        List<EncodedExample> shuffled = new ArrayList<>(buffer);
        Collections.shuffle(shuffled, new Random(seed));
        return new BufferSplit(shuffled.subList(0, nFit), shuffled.subList(nFit, nFit + nTune), shuffled.subList(nFit + nTune, n));
    }

    /**
     * The smallest buffer {@link #of} accepts: the fitting and tuning parts are rounded down, so the gating part
     * holds at least the rest's fraction of any larger buffer too.
     */
    public static int minimumBuffer(double fitFraction, double tuneFraction, int minGate) {
        double gate = 1 - fitFraction - tuneFraction;
        return Math.max((int) Math.ceil(Math.max(2, minGate) / gate - 1e-9),
                (int) Math.ceil(2 / Math.min(fitFraction, tuneFraction) - 1e-9));
    }

    public int size() {
        return fit.size() + tune.size() + gate.size();
    }
}
