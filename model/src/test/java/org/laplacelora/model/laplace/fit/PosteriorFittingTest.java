package org.laplacelora.model.laplace.fit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.posterior.FitReport;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.Task;
import org.laplacelora.model.tasks.TaskKind;

class PosteriorFittingTest {
    /**
     * Four classes (reference case 2's ARC rows): Monte Carlo and probit are each tuned on the validation rows and the
     * one with the lower validation NLL is stored with the posterior, which the automatic link then uses.
     */
    @Test
    void withFourClassesTheLinkIsChosenOnValidationAndStored() throws Exception {
        try (ReferenceCase c = ReferenceCase.case2()) {
            Task task = Task.of(TaskKind.ARC, c.loaded.tokenizer());
            List<EncodedExample> train = c.train;
            List<EncodedExample> val = c.test;
            FitSettings settings = new FitSettings(EnumSet.of(CurvatureConvention.REDUCE), FisherType.EXACT, 4, 4, false, 2000, Double.NaN, 0);
            LaplacePosterior p = PosteriorFitting.fit(c.llama, c.adapter, task, train, val, settings, 0, n -> {}, n -> {});
            FitReport.Validation report = (FitReport.Validation) p.report();
            assertThat(report.linkNll()).containsOnlyKeys("mc", "probit");
            String lower = report.linkNll().get("probit") < report.linkNll().get("mc") ? "probit" : "mc";
            assertThat(p.link()).isEqualTo(lower).isEqualTo(report.tuningLink());

            // The stored λ is the one tuned for the chosen link.
            ValidationSet v = ValidationSet.compute(c.llama, c.adapter, task.answerIds(), val, 0, 4, List.of(p), n -> {});
            LinearisedPredictive chosen = new LinearisedPredictive(Link.parse(lower), 2000, 0);
            PriorTuning.Tuned again = PriorTuning.byValidation(v, p, LaplacePosterior.ALL, chosen, new double[] {1});
            assertThat(p.prior().lambda()).isCloseTo(again.prior().lambda(), org.assertj.core.data.Percentage.withPercentage(1e-6));

            LaplacePosterior loaded = LaplacePosterior.fromBytes(p.toBytes());
            assertThat(loaded.link()).isEqualTo(lower);
            assertThat(new LinearisedPredictive(Link.AUTO, 10, 0).forPosterior(loaded).link()).isEqualTo(Link.parse(lower));
            assertThat(new LinearisedPredictive(Link.MC, 10, 0).forPosterior(loaded).link()).as("an explicit link is kept").isEqualTo(Link.MC);
            assertThat(new LinearisedPredictive(Link.AUTO, 10, 0).forPosterior(loaded.withLink(LaplacePosterior.AUTO_LINK)).link())
                    .isEqualTo(Link.AUTO);
        }
    }
}
