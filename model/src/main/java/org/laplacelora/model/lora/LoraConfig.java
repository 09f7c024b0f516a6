package org.laplacelora.model.lora;

import java.util.List;

/**
 * PEFT's LoRA hyperparameters: {@code h = W0 x + scale · B A drop(x)} with scale = alpha / r
 * (alpha / sqrt(r) with rsLoRA).
 *
 * @param targetModules module name suffixes, as PEFT matches them ("q_proj" adapts every
 *     "model.layers.{i}.self_attn.q_proj"; "lm_head" the output projection)
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules, String baseModel, boolean rsLora) {
    /** The paper's modules: queries, values and the LM head. */
    public static final List<String> DEFAULT_TARGETS = List.of("q_proj", "v_proj", "lm_head");

    public LoraConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        if (targetModules == null || targetModules.isEmpty()) {
            throw new IllegalArgumentException("LoRA needs at least one target module");
        }
        targetModules = List.copyOf(targetModules);
        baseModel = baseModel == null ? "" : baseModel;
    }

    /** The paper's settings: r 8, alpha 16, dropout 0.1 on q, v and the LM head. */
    public static LoraConfig paperDefaults(String baseModel) {
        return new LoraConfig(8, 16, 0.1, DEFAULT_TARGETS, baseModel, false);
    }

    public double scale() {
        return rsLora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** PEFT's rule: a module is adapted when its full name equals a target or ends with "." + target. */
    public boolean targets(String moduleName) {
        for (String t : targetModules) {
            if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
                return true;
            }
        }
        return false;
    }

    public LoraConfig withBaseModel(String base) {
        return new LoraConfig(rank, alpha, dropout, targetModules, base, rsLora);
    }
}
