package org.laplacelora.model.laplace.posterior;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.model.Fixtures;
import org.laplacelora.model.ReferenceCase;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.laplace.curvature.CurvatureConvention;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.laplace.predictive.LaplacePredictor;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Link;
import org.laplacelora.model.laplace.predictive.ScoredExample;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.lora.LoraConfig;
import org.laplacelora.model.tasks.EncodedExample;

class PosteriorFileTest {
    private static ReferenceCase ref;
    private static LaplacePosterior posterior;
    private static final FitReport REPORT = new FitReport.Refit("online", new TuningReport.Evidence(2.0, null, -3.5, 1.5, 2.0), "test", 8,
            4, 2, 2, 0, 0.5, java.util.List.of(new FitReport.ForgettingCandidate(0.5, 2.0, false, 1.3, 0.61)));

    @BeforeAll
    static void fit() {
        ref = ReferenceCase.case1();
        LaplaceFit.Settings settings = new LaplaceFit.Settings("winogrande", List.of("A", "B"), ref.answerIds,
                FisherType.EXACT, 3, 4, 0, 0);
        posterior = LaplaceFit.fit(ref.llama, ref.adapter, ref.train, EnumSet.of(CurvatureConvention.LAST), settings, n -> {})
                .get(CurvatureConvention.LAST)
                .withPrior(new PriorPrecision(0.3, java.util.Map.of("lm_head", 2.0), 0.5))
                .withLastLayerPrior(PriorPrecision.of(4))
                .withTemperature(1.7)
                .withReport(REPORT);
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    @Test
    void savedAndLoadedPosteriorIsIdentical(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.safetensors");
        String sha = posterior.save(file);
        LaplacePosterior read = LaplacePosterior.load(file);
        assertThat(read.info()).usingRecursiveComparison().isEqualTo(posterior.info());
        assertThat(read.prior()).isEqualTo(posterior.prior());
        assertThat(read.lastLayerPrior()).isEqualTo(posterior.lastLayerPrior());
        assertThat(read.temperature()).isEqualTo(1.7);
        assertThat(read.report()).isEqualTo(REPORT);
        assertThat(read.blocks()).hasSameSizeAs(posterior.blocks());
        for (int b = 0; b < read.blocks().size(); b++) {
            assertThat(read.blocks().get(b).g().values()).containsExactly(posterior.blocks().get(b).g().values());
            assertThat(read.blocks().get(b).a().vectors()).containsExactly(posterior.blocks().get(b).a().vectors());
        }
        assertThat(read.logEvidence(read.prior(), LaplacePosterior.ALL)).isEqualTo(posterior.logEvidence(posterior.prior(), LaplacePosterior.ALL));
        assertThat(sha).hasSize(64);
    }

    @Test
    void aCorruptedPosteriorIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.safetensors");
        posterior.save(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long at = ch.size() - 12;
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            ch.write(one, at);
        }
        assertThatThrownBy(() -> LaplacePosterior.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("sha256").hasMessageContaining("corrupt");
        Path notPosterior = dir.resolve("adapter");
        ref.adapter.save(notPosterior);
        assertThatThrownBy(() -> LaplacePosterior.load(notPosterior.resolve("adapter_model.safetensors")))
                .hasMessageContaining("not a Laplace-LoRA posterior");
    }

    @Test
    void aPosteriorIsOnlyUsedWithItsOwnModelAndAdapter() throws Exception {
        LinearisedPredictive link = new LinearisedPredictive(Link.BINARY, 1, 0);
        new LaplacePredictor(ref.llama, ref.adapter, posterior, link).requireAnswers(ref.answerIds);
        try (LoraAdapter other = LoraAdapter.initialise(ref.llama, new LoraConfig(4, 8, 0, LoraConfig.DEFAULT_TARGETS, "", false), 9, ref.manager)) {
            assertThatThrownBy(() -> new LaplacePredictor(ref.llama, other, posterior, link))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("fitted on adapter");
        }
        assertThatThrownBy(() -> new LaplacePredictor(ref.llama, ref.adapter, posterior, link).requireAnswers(new int[] {445, 447}))
                .hasMessageContaining("answer tokens");
        List<ScoredExample> p = new LaplacePredictor(ref.llama, ref.adapter, posterior, link)
                .predict(ref.test, 0, ref.manager);
        assertThat(p).hasSize(4);
        for (ScoredExample x : p) {
            assertThat(x.map()[0] + x.map()[1]).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(Math.abs(x.temperature()[0] - 0.5)).isLessThan(Math.abs(x.map()[0] - 0.5));   // T = 1.7 softens
            assertThat(Math.abs(x.laplace()[0] - 0.5)).isLessThan(Math.abs(x.map()[0] - 0.5));       // the posterior widens
            assertThat(x.epistemic()).isPositive();
            EncodedExample e = ref.test.get(p.indexOf(x));
            assertThat(x.id()).isEqualTo(e.id());
        }
    }

    /**
     * A four-class posterior (case 2, the last-position convention, fitted on left-padded batches of 4, which
     * that convention ignores) survives the file and predicts, through the predictor, the reference's MAP and
     * probit probabilities at λ = 1 (float64 throughout: 1e-12 and 1e-9 as elsewhere).
     */
    @Test
    void aFourClassPosteriorSavedAndLoadedPredictsTheReferenceProbabilities(@TempDir Path dir) throws Exception {
        try (ReferenceCase case2 = ReferenceCase.case2()) {
            LaplacePosterior fitted = LaplaceFit.fit(case2.llama, case2.adapter, case2.train, EnumSet.of(CurvatureConvention.LAST),
                    case2.fitSettings(1 << 20, 4), n -> {}).get(CurvatureConvention.LAST);
            Path file = dir.resolve("p.safetensors");
            fitted.save(file);
            LaplacePosterior read = LaplacePosterior.load(file);
            assertThat(read.info()).usingRecursiveComparison().isEqualTo(fitted.info());
            assertThat(read.info().answers()).containsExactly("A", "B", "C", "D");
            LaplacePredictor predictor = new LaplacePredictor(case2.llama, case2.adapter, read, new LinearisedPredictive(Link.PROBIT, 1, 0));
            predictor.requireAnswers(case2.answerIds);
            assertThatThrownBy(() -> predictor.requireAnswers(new int[] {447, 445, 455, 457})).hasMessageContaining("answer tokens");
            JsonNode want = case2.json.get("predictive");
            List<ScoredExample> p = predictor.predict(case2.test, 0, case2.manager);
            for (int n = 0; n < p.size(); n++) {
                double[] map = Fixtures.doubles(want.get("map").get("p").get(n));
                double[] probit = Fixtures.doubles(want.get("methods").get("last").get("probit_full").get("p").get(n));
                for (int c = 0; c < 4; c++) {
                    assertThat(p.get(n).map()[c]).isCloseTo(map[c], org.assertj.core.data.Offset.offset(1e-12));
                    assertThat(p.get(n).laplace()[c]).isCloseTo(probit[c], org.assertj.core.data.Offset.offset(1e-9));
                }
                assertThat(p.get(n).differenceCovariance()).hasSize(9);
            }
        }
    }
}
