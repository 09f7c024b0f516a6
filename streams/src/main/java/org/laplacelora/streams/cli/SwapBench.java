package org.laplacelora.streams.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.laplacelora.model.laplace.posterior.LaplacePosterior;
import org.laplacelora.model.laplace.posterior.PriorPrecision;
import org.laplacelora.model.laplace.predictive.LinearisedPredictive;
import org.laplacelora.model.laplace.predictive.Links;
import org.laplacelora.schemas.avro.PosteriorChunk;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.VersionFile;
import org.laplacelora.schemas.avro.VersionPart;
import org.laplacelora.model.synthetic.SyntheticTask;
import org.laplacelora.streams.posteriors.PosteriorVersions;
import org.laplacelora.streams.posteriors.ServedModel;
import org.laplacelora.streams.produce.QuestionProducer;
import org.laplacelora.streams.scorer.QuestionScorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "swap")
final class SwapBench extends AppCommand {
    @Option(names = "--seconds", defaultValue = "20", paramLabel = "S") int seconds;
    @Option(names = "--batch", defaultValue = "16", paramLabel = "B", descriptionKey = "swap.batch") int batch;
    @Option(names = "--swap-every-ms", defaultValue = "250", paramLabel = "MS") long swapEveryMs;
    @Mixin SamplesOption samples = new SamplesOption(Links.SERVING_SAMPLES);
    @Mixin CacheOptions cache;

    private record Batch(long startNanos, long endNanos) {
        double ms() {
            return (endNanos - startNanos) / 1e6;
        }
    }

    @Override
    public Integer call() throws Exception {
        try (QuestionScorer scorer = new QuestionScorer(cache.demoModel(), new LinearisedPredictive(Links.DEFAULT, samples.samples, 0))) {
            List<ServedModel.Valid> questions = new SyntheticTask(0.1).examples("s", batch, 5, false).stream()
                    .map(e -> scorer.validate(QuestionProducer.toQuestion(e, Map.of()))).toList();
            // A version as an online refit publishes it: the posterior and the adapter (its mean), each in chunks.
            LaplacePosterior served = scorer.served().posterior();
            byte[] file = served.withPrior(PriorPrecision.of(served.prior().lambda() / 10)).toBytes();
            byte[] adapterFile;
            try (ServedModel.Lease current = scorer.served().lease()) {
                adapterFile = current.adapter().toBytes();
            }
            List<PosteriorChunk> chunks = PosteriorVersions.split(1, VersionPart.POSTERIOR, file, 64 * 1024);
            List<PosteriorChunk> adapterChunks = PosteriorVersions.split(1, VersionPart.ADAPTER, adapterFile, 64 * 1024);
            PosteriorManifest manifest = PosteriorManifest.newBuilder().setVersion(1).setSha256(PosteriorVersions.sha256(file))
                    .setChunks(chunks.size()).setBytes(file.length).setModel("").setAdapter("").setPriorPrecision(0).setExamples(0)
                    .setFactorRank(0).setConvention("").setTrigger("bench").setCreatedAt(Instant.now())
                    .setAdapterFile(VersionFile.newBuilder().setSha256(PosteriorVersions.sha256(adapterFile)).setChunks(adapterChunks.size())
                            .setBytes(adapterFile.length).build()).build();
            Map<VersionPart, Map<Integer, PosteriorChunk>> byPart = new EnumMap<>(VersionPart.class);
            chunks.forEach(c -> byPart.computeIfAbsent(VersionPart.POSTERIOR, k -> new HashMap<>()).put(c.getIndex(), c));
            adapterChunks.forEach(c -> byPart.computeIfAbsent(VersionPart.ADAPTER, k -> new HashMap<>()).put(c.getIndex(), c));

            scoreFor(scorer, questions, 3);   // warm-up
            List<Batch> steady = scoreFor(scorer, questions, seconds);
            List<long[]> swaps = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong version = new AtomicLong(1);
            Thread swapper = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Thread.sleep(swapEveryMs);
                        long t0 = System.nanoTime();
                        scorer.served().swap(PosteriorVersions.files(manifest, byPart), version.incrementAndGet());
                        synchronized (swaps) {
                            swaps.add(new long[] {t0, System.nanoTime()});
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "swapper");
            swapper.start();
            List<Batch> swapping = scoreFor(scorer, questions, seconds);
            stop.set(true);
            swapper.join();
            List<Batch> overlapping = swapping.stream()
                    .filter(b -> swaps.stream().anyMatch(s -> s[0] < b.endNanos() && s[1] > b.startNanos())).toList();
            double[] swapMs = swaps.stream().mapToDouble(s -> (s[1] - s[0]) / 1e6).sorted().toArray();

            System.out.printf("posterior file %d bytes in %d chunks, adapter file %d bytes in %d chunks; batch %d questions, link %s; "
                    + "%d cores%n", file.length, chunks.size(), adapterFile.length, adapterChunks.size(), batch,
                    Links.DEFAULT.forClasses(scorer.served().task().numClasses()).id(), Runtime.getRuntime().availableProcessors());
            System.out.printf("%-34s %7s %9s %9s %9s%n", "batch latency (ms)", "batches", "p50", "p99", "max");
            row("steady state", steady);
            row("while swapping (all batches)", swapping);
            row("batches overlapping a swap", overlapping);
            System.out.printf("%d swaps; each (assemble both files + sha256 + parse + load the adapter + verify + swap) took median %.1f ms, "
                    + "max %.1f ms, off the "
                    + "scoring thread%n", swapMs.length, swapMs.length == 0 ? Double.NaN : swapMs[swapMs.length / 2],
                    swapMs.length == 0 ? Double.NaN : swapMs[swapMs.length - 1]);
        }
        return 0;
    }

    private List<Batch> scoreFor(QuestionScorer scorer, List<ServedModel.Valid> questions, int secs) {
        List<Batch> out = new ArrayList<>();
        long end = System.nanoTime() + secs * 1_000_000_000L;
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            scorer.score(questions, System.currentTimeMillis());
            out.add(new Batch(t0, System.nanoTime()));
        }
        return out;
    }

    private static void row(String name, List<Batch> batches) {
        double[] ms = batches.stream().mapToDouble(Batch::ms).sorted().toArray();
        if (ms.length == 0) {
            System.out.printf("%-34s %7d%n", name, 0);
            return;
        }
        System.out.printf("%-34s %7d %9.1f %9.1f %9.1f%n", name, ms.length, percentile(ms, 0.5), percentile(ms, 0.99), ms[ms.length - 1]);
    }

    private static double percentile(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
