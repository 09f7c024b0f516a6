package org.laplacelora.streams.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.streams.kafka.KafkaSettings;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.PosteriorWatcher;
import org.laplacelora.streams.refit.RefitRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "posterior", subcommands = {PosteriorCommand.ListVersions.class, PosteriorCommand.Rollback.class})
final class PosteriorCommand extends CommandGroup {
    @Command(name = "list")
    static final class ListVersions extends AppCommand {
        @Mixin KafkaOptions kafkaOptions;
        @Option(names = "--json", descriptionKey = "posterior.json") boolean json;

        @Override
        public Integer call() throws Exception {
            KafkaSettings kafka = kafkaOptions.settings();
            List<PosteriorManifest> versions;
            Map<Long, String> status = new LinkedHashMap<>();
            try (PosteriorWatcher w = new PosteriorWatcher(kafka, null, "posterior-list").start()) {
                if (!w.awaitCaughtUp(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("could not read " + kafka.topicNames().posteriors() + " to its end within 30 s");
                }
                versions = w.manifests();
                for (PosteriorManifest m : versions) {
                    try {
                        w.files(m.getVersion());
                        status.put(m.getVersion(), "ok");
                    } catch (PosteriorVersions.InvalidVersionException e) {
                        status.put(m.getVersion(), "invalid: " + e.getMessage());
                    }
                }
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
                    r.put("status", status.get(m.getVersion()));
                    r.put("held_out_nll_before", m.getHeldOutBefore() == null ? null : m.getHeldOutBefore().getNll());
                    r.put("held_out_nll_after", m.getHeldOutAfter() == null ? null : m.getHeldOutAfter().getNll());
                    rows.add(r);
                }
                out().println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return 0;
            }
            if (versions.isEmpty()) {
                out().println("no versions on " + kafka.topicNames().posteriors() + ": scorers serve the file they started with (version 0)");
                return 0;
            }
            out().printf("%8s  %-24s  %10s  %6s  %8s  %-17s  %-13s  %-30s  %s%n", "version", "created", "λ", "τ", "N", "held-out NLL",
                    "sha256", "trigger", "status");
            for (PosteriorManifest m : versions) {
                out().printf("%8d  %-24s  %10.4g  %6.3g  %8d  %-17s  %-13s  %-30s  %s%n", m.getVersion(), m.getCreatedAt(),
                        m.getPriorPrecision(), m.getCurvatureScale(), m.getExamples(), nll(m.getHeldOutBefore(), m.getHeldOutAfter()),
                        m.getSha256().substring(0, 12), m.getTrigger(), status.get(m.getVersion()));
            }
            return 0;
        }

        private static String nll(HeldOutMetrics before, HeldOutMetrics after) {
            return before == null || after == null ? "-" : String.format("%.3f → %.3f", before.getNll(), after.getNll());
        }
    }

    @Command(name = "rollback")
    static final class Rollback extends AppCommand {
        @Mixin KafkaOptions kafkaOptions;
        @Parameters(paramLabel = "VERSION", descriptionKey = "posterior.parameter-version") long version;

        @Override
        public Integer call() throws Exception {
            if (version < 0) {
                throw new IllegalArgumentException("VERSION must be ≥ 0");
            }
            KafkaSettings kafka = kafkaOptions.settings();
            RefitRequests.send(kafka, RefitRequests.rollback(version, RefitRequests.requester()));
            out().printf("rollback to version %d requested; the refitter reports on %s%n", version, kafka.topicNames().refitReports());
            return 0;
        }
    }
}
