package org.laplacelora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.streams.config.KafkaSettings;
import org.laplacelora.streams.refit.PosteriorWatcher;
import org.laplacelora.streams.refit.RefitRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "posterior", mixinStandardHelpOptions = true,
        description = "The posterior versions on the posteriors topic: list them, or roll back to one.",
        subcommands = {PosteriorCommand.ListVersions.class, PosteriorCommand.Rollback.class})
final class PosteriorCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the versions kept on the posteriors topic (the newest is the one scorers serve), with what "
                    + "triggered each and its held-out calibration before and after.")
    static final class ListVersions implements Callable<Integer> {
        @Mixin
        KafkaOptions kafkaOptions;

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            KafkaSettings kafka = kafkaOptions.settings();
            List<PosteriorManifest> versions;
            try (PosteriorWatcher w = new PosteriorWatcher(kafka, kafka.registry(), null).start()) {
                if (!w.awaitCaughtUp(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("could not read " + kafka.topics().posteriors() + " to its end within 30 s");
                }
                versions = w.manifests();
            }
            if (json) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (PosteriorManifest m : versions) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("version", m.getVersion());
                    r.put("created_at", m.getCreatedAt().toString());
                    r.put("trigger", m.getTrigger());
                    r.put("prior_precision", m.getPriorPrecision());
                    r.put("curvature_scale", m.getCurvatureScale());
                    r.put("examples", m.getExamples());
                    r.put("convention", m.getConvention());
                    r.put("bytes", m.getBytes());
                    r.put("chunks", m.getChunks());
                    r.put("sha256", m.getSha256());
                    r.put("held_out_nll_before", m.getHeldOutBefore() == null ? null : m.getHeldOutBefore().getNll());
                    r.put("held_out_nll_after", m.getHeldOutAfter() == null ? null : m.getHeldOutAfter().getNll());
                    rows.add(r);
                }
                System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return 0;
            }
            if (versions.isEmpty()) {
                System.out.println("no versions on " + kafka.topics().posteriors() + ": scorers serve the file they started with (version 0)");
                return 0;
            }
            System.out.printf("%8s  %-24s  %10s  %6s  %8s  %-17s  %-13s  %s%n", "version", "created", "λ", "τ", "N", "held-out NLL",
                    "sha256", "trigger");
            for (PosteriorManifest m : versions) {
                System.out.printf("%8d  %-24s  %10.4g  %6.3g  %8d  %-17s  %-13s  %s%n", m.getVersion(), m.getCreatedAt(),
                        m.getPriorPrecision(), m.getCurvatureScale(), m.getExamples(), nll(m.getHeldOutBefore(), m.getHeldOutAfter()),
                        m.getSha256().substring(0, 12), m.getTrigger());
            }
            return 0;
        }

        private static String nll(HeldOutMetrics before, HeldOutMetrics after) {
            return before == null || after == null ? "-" : String.format("%.3f → %.3f", before.getNll(), after.getNll());
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = {"Asks the refitter to serve VERSION's posterior again: it republishes that file as a new version, "
                    + "which every scorer swaps in. Version 0 is the file the refitter started with."})
    static final class Rollback implements Callable<Integer> {
        @Mixin
        KafkaOptions kafkaOptions;

        @Parameters(paramLabel = "VERSION", description = "A version from 'posterior list', or 0.")
        long version;

        @Override
        public Integer call() throws Exception {
            if (version < 0) {
                throw new IllegalArgumentException("VERSION must be ≥ 0");
            }
            KafkaSettings kafka = kafkaOptions.settings();
            RefitRequests.send(kafka, kafka.registry(), RefitRequests.rollback(version, RefitRequests.requester()));
            System.out.printf("rollback to version %d requested; the refitter reports on %s%n", version, kafka.topics().refitReports());
            return 0;
        }
    }
}
