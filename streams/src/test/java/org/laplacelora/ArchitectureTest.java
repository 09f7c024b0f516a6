package org.laplacelora;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of docs/architecture.md, enforced: every main class of every module (schemas, model, streams)
 * may use only the layers below its own, and no package of the project is in a cycle with another. Test
 * classes (this module's and the model's test-jar) are not checked.
 */
class ArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("/test-classes/") && !location.contains("-tests.jar"))
                .importPackages("org.laplacelora");
    }

    /** Top to bottom; a layer may use the ones listed below it, never one above. */
    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cli").definedBy("org.laplacelora.streams.cli..")
            .layer("demo, bench").definedBy("org.laplacelora.streams.demo..", "org.laplacelora.streams.bench..")
            .layer("services").definedBy("org.laplacelora.streams.scorer..", "org.laplacelora.streams.calibrator..",
                    "org.laplacelora.streams.refit..", "org.laplacelora.streams.produce..")
            .layer("posteriors").definedBy("org.laplacelora.streams.posteriors..")
            .layer("kafka").definedBy("org.laplacelora.streams.kafka..")
            .layer("telemetry").definedBy("org.laplacelora.streams.telemetry..")
            .layer("schemas").definedBy("org.laplacelora.schemas..")
            .layer("model refit").definedBy("org.laplacelora.model.refit..")
            .layer("train").definedBy("org.laplacelora.model.train..")
            .layer("fit").definedBy("org.laplacelora.model.laplace.fit..")
            .layer("predictive").definedBy("org.laplacelora.model.laplace.predictive..")
            .layer("posterior").definedBy("org.laplacelora.model.laplace.posterior..")
            .layer("curvature").definedBy("org.laplacelora.model.laplace.curvature..")
            .layer("lora").definedBy("org.laplacelora.model.lora..")
            .layer("synthetic").definedBy("org.laplacelora.model.synthetic..")
            .layer("llama").definedBy("org.laplacelora.model.llama..")
            .layer("io, tokenizer, tasks, metrics").definedBy("org.laplacelora.model.io..", "org.laplacelora.model.tokenizer..",
                    "org.laplacelora.model.tasks..", "org.laplacelora.model.metrics..")
            .layer("core").definedBy("org.laplacelora.model.core..")
            .whereLayer("cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("demo, bench").mayOnlyBeAccessedByLayers("cli")
            .whereLayer("services").mayOnlyBeAccessedByLayers("cli", "demo, bench")
            .whereLayer("posteriors").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services")
            .whereLayer("kafka").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors")
            .whereLayer("telemetry").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "kafka")
            .whereLayer("schemas").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "kafka")
            .whereLayer("model refit").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors")
            .whereLayer("train").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit")
            .whereLayer("fit").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit")
            .whereLayer("predictive").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "fit")
            .whereLayer("posterior").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "fit",
                    "predictive")
            .whereLayer("curvature").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "fit",
                    "predictive", "posterior")
            .whereLayer("lora").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "train", "fit",
                    "predictive", "posterior", "curvature")
            .whereLayer("synthetic").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "train",
                    "fit", "predictive", "posterior", "curvature", "lora")
            .whereLayer("llama").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "train", "fit",
                    "predictive", "posterior", "curvature", "lora", "synthetic")
            .whereLayer("io, tokenizer, tasks, metrics").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors",
                    "model refit", "train", "fit", "predictive", "posterior", "curvature", "lora", "synthetic", "llama")
            .whereLayer("core").mayOnlyBeAccessedByLayers("cli", "demo, bench", "services", "posteriors", "model refit", "train", "fit",
                    "predictive", "posterior", "curvature", "lora", "synthetic", "llama", "io, tokenizer, tasks, metrics");

    /** One slice per package, so that a cycle between two packages of one module cannot hide inside a slice. */
    static final ArchRule NO_CYCLES = slices().matching("org.laplacelora.(**)").should().beFreeOfCycles();

    @Test
    void layersPointDownwards() {
        LAYERS.check(main);
    }

    @Test
    void packagesAreFreeOfCycles() {
        NO_CYCLES.check(main);
    }

    /** The rules see the whole product: all three modules' main classes were imported. */
    @Test
    void everyModuleIsChecked() {
        for (String pkg : new String[] {"org.laplacelora.schemas.avro", "org.laplacelora.model.core", "org.laplacelora.streams.cli"}) {
            if (!main.containPackage(pkg)) {
                throw new AssertionError("no classes of " + pkg + " were imported");
            }
        }
    }
}
