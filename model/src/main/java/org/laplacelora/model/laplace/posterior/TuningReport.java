package org.laplacelora.model.laplace.posterior;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/** How one prior precision was chosen, with the numbers that justify it (saved with the posterior). */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "method")
@JsonSubTypes({
    @JsonSubTypes.Type(value = TuningReport.Evidence.class, name = "evidence"),
    @JsonSubTypes.Type(value = TuningReport.Validation.class, name = "validation")})
public sealed interface TuningReport {
    /**
     * The paper's Algorithm 2: λ maximising the Laplace evidence of the training data.
     *
     * @param lambda the scalar λ (null when one is chosen per module)
     * @param lambdaPerModule λ per adapted module (null for a scalar λ)
     * @param effectiveParameters MacKay's γ_eff at the optimum (scalar λ only)
     * @param mackayLambda γ_eff / ‖θ*‖², which equals λ at the optimum (scalar λ only)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Evidence(Double lambda, Map<String, Double> lambdaPerModule, double logEvidence, Double effectiveParameters,
                    Double mackayLambda) implements TuningReport {}

    /**
     * The paper's Algorithm 3: λ (and τ) maximising the validation log-likelihood under {@code link}.
     *
     * @param grid every (log10 λ, τ) tried and its validation NLL, before the golden-section refinement
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Validation(String link, double lambda, double tau, double validationNll, boolean lambdaAtRangeBoundary,
                      List<GridPoint> grid) implements TuningReport {
        public Validation {
            grid = List.copyOf(grid);
        }
    }

    /** One point of the validation grid. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record GridPoint(double log10Lambda, double tau, double nll) {}
}
