package org.laplacelora.model.laplace.posterior;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;

/** How a posterior's hyperparameters were chosen, saved with it: one of the two fitting protocols, or a refit. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "protocol")
@JsonSubTypes({
    @JsonSubTypes.Type(value = FitReport.Evidence.class, name = "evidence"),
    @JsonSubTypes.Type(value = FitReport.Validation.class, name = "validation"),
    @JsonSubTypes.Type(value = FitReport.Refit.class, name = "refit")})
public sealed interface FitReport {
    /** The paper's first protocol: no validation data, λ by the training evidence. */
    record Evidence(EvidenceTuning tuning) implements FitReport {}

    /** λ of Laplace-LoRA and of last-layer Laplace by evidence, and the log evidence at Laplace-LoRA's λ. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record EvidenceTuning(TuningReport laplace, TuningReport lastLayer, double logEvidence) {}

    /**
     * The paper's second protocol: hyperparameters by validation likelihood under {@code tuningLink}, every
     * convention tried, the best-calibrated one chosen; the temperature of the TS baseline fitted on the same data.
     * With more than two classes the chosen convention is tuned again under the probit link, and {@code linkNll}
     * holds its validation NLL under each link: the lower one is the posterior's link, {@code tuningLink}.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Validation(int validationExamples, String tuningLink, double temperature, CurvatureConvention chosenConvention,
                      Map<CurvatureConvention, ConventionScore> conventions, Map<String, Double> linkNll) implements FitReport {
        public Validation {
            conventions = Map.copyOf(conventions);
            linkNll = linkNll == null ? Map.of() : Map.copyOf(linkNll);   // null in reports from before the link choice
        }
    }

    /** What one convention scored on the validation data. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ConventionScore(double lambda, double tau, double validationNll, double validationEce, boolean lambdaAtRangeBoundary,
                           double lastLayerLambda, double lastLayerValidationNll, boolean lastLayerLambdaAtRangeBoundary) {}

    /**
     * A refit on recent labelled traffic: its mode, the buffer's three parts, λ tuned on the tuning part (with
     * the temperature of the TS baseline, re-fitted there too), every forgetting factor tried (online) and the
     * gate's verdict on the gating part.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Refit(String mode, TuningReport tuning, String gate, int buffer, int fitRows, int tuningRows, int gateRows,
                 double blendWeight, double forgetting, List<ForgettingCandidate> candidates) implements FitReport {
        public Refit {
            candidates = candidates == null ? List.of() : List.copyOf(candidates);
        }
    }

    /** One forgetting factor τ_f of an online refit: a whole update, scored on the tuning rows. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ForgettingCandidate(double forgetting, double lambda, boolean lambdaAtRangeBoundary, double temperature,
                               double tuningNll) {}
}
