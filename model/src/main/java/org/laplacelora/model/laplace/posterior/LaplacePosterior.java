package org.laplacelora.model.laplace.posterior;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.io.Safetensors;
import org.laplacelora.model.laplace.curvature.Curvature;
import org.laplacelora.model.laplace.curvature.FactorEigen;
import org.laplacelora.model.laplace.curvature.KfacFactors;
import org.laplacelora.model.laplace.curvature.KronFactor;
import org.laplacelora.model.laplace.curvature.LoraBlock;

/**
 * A Kronecker-factored Laplace posterior over the LoRA weights: q(θ) = N(θ*, Σ), Σ⁻¹ = blockdiag(τ·G ⊗ A) + λI,
 * one block per LoRA matrix, each kept as the eigenpairs of its two factors (full rank, or low rank with
 * the rest of the space prior-only). It also carries the hyperparameters of the last-layer Laplace
 * baseline (the LM head's blocks alone, with their own λ) and the temperature of the temperature-scaling
 * baseline, fitted together, so one file serves all of MAP, TS, LLLA and Laplace-LoRA.
 *
 * <p>An immutable value: tuning returns a new posterior ({@link #withPrior} and the like) that shares the
 * factors. Saved as one safetensors file: float64 eigenpairs per block, JSON metadata (what it was fitted
 * on, the hyperparameters, the tuning report) and the sha256 of the tensor data, checked on load.
 */
public final class LaplacePosterior {
    public static final Predicate<LoraBlock> ALL = b -> true;
    public static final Predicate<LoraBlock> HEAD = LoraBlock::isHead;
    static final String FORMAT = "laplace-lora-posterior-v1";
    private static final ObjectMapper JSON = JsonMapper.builder().findAndAddModules()
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)                   // reports of earlier versions
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    /** {@link #link()} of a posterior whose link was not chosen on validation (and of files from before the choice). */
    public static final String AUTO_LINK = "auto";

    private final PosteriorInfo info;
    private final List<PosteriorBlock> blocks;
    private final PriorPrecision prior;
    private final PriorPrecision lastLayerPrior;
    private final double temperature;
    private final String link;
    private final FitReport report;

    private LaplacePosterior(PosteriorInfo info, List<PosteriorBlock> blocks, PriorPrecision prior, PriorPrecision lastLayerPrior,
                             double temperature, String link, FitReport report) {
        this.info = info;
        this.blocks = List.copyOf(blocks);
        this.prior = prior;
        this.lastLayerPrior = lastLayerPrior;
        this.temperature = temperature;
        this.link = link;
        this.report = report;
    }

    /** A posterior of these blocks with prior precision 1 and temperature 1, until tuned. */
    static LaplacePosterior of(PosteriorInfo info, List<PosteriorBlock> blocks) {
        return new LaplacePosterior(info, blocks, PriorPrecision.of(1), PriorPrecision.of(1), 1, AUTO_LINK, null);
    }

    /** The posterior of a curvature, with prior precision 1 until tuned. */
    public static LaplacePosterior fromCurvature(Curvature curvature, PosteriorInfo info) {
        List<PosteriorBlock> blocks = new ArrayList<>();
        for (KfacFactors f : curvature.blocks().values()) {
            blocks.add(new PosteriorBlock(f.block(), f.gEigen(), f.aEigen()));
        }
        return of(info, blocks);
    }

    public PosteriorInfo info() {
        return info;
    }

    public List<PosteriorBlock> blocks() {
        return blocks;
    }

    /** Laplace-LoRA's hyperparameters (all blocks). */
    public PriorPrecision prior() {
        return prior;
    }

    /** Last-layer Laplace's hyperparameters (LM-head blocks only). */
    public PriorPrecision lastLayerPrior() {
        return lastLayerPrior;
    }

    /** Temperature of the temperature-scaling baseline (softmax(μ/T)), fitted on the same validation data. */
    public double temperature() {
        return temperature;
    }

    /**
     * The link the prior was tuned for and chosen with on validation data ("mc" or "probit" with more than two classes,
     * "binary" with two), which a predictive asked for the automatic link uses; "auto" when no link was chosen (the
     * class-count rule then applies).
     */
    public String link() {
        return link;
    }

    public LaplacePosterior withLink(String id) {
        return new LaplacePosterior(info, blocks, prior, lastLayerPrior, temperature, id, report);
    }

    /** How the hyperparameters were chosen (null until tuned). */
    public FitReport report() {
        return report;
    }

    public LaplacePosterior withPrior(PriorPrecision p) {
        return new LaplacePosterior(info, blocks, p, lastLayerPrior, temperature, link, report);
    }

    public LaplacePosterior withLastLayerPrior(PriorPrecision p) {
        return new LaplacePosterior(info, blocks, prior, p, temperature, link, report);
    }

    public LaplacePosterior withTemperature(double t) {
        return new LaplacePosterior(info, blocks, prior, lastLayerPrior, t, link, report);
    }

    public LaplacePosterior withReport(FitReport r) {
        return new LaplacePosterior(info, blocks, prior, lastLayerPrior, temperature, link, r);
    }

    /** Refuses a model or adapter other than the ones the posterior was fitted on. */
    public void requireFittedOn(String modelIdentity, String adapterIdentity) throws CheckpointException {
        if (!info.modelIdentity().equals(modelIdentity)) {
            throw new CheckpointException("the posterior was fitted on model " + info.modelIdentity() + ", not " + modelIdentity);
        }
        if (!info.adapterIdentity().equals(adapterIdentity)) {
            throw new CheckpointException("the posterior was fitted on adapter " + info.adapterIdentity() + ", not " + adapterIdentity);
        }
    }

    /** Refuses a task whose answer tokens are not the posterior's. */
    public void requireAnswers(int[] taskAnswerIds) throws CheckpointException {
        if (!Arrays.equals(taskAnswerIds, info.answerIds())) {
            throw new CheckpointException("the posterior's answer tokens " + Arrays.toString(info.answerIds())
                    + " differ from the task's " + Arrays.toString(taskAnswerIds));
        }
    }

    /**
     * This posterior's curvature with another's (of the same model and adapter) added in with weight w, as
     * if the other's N examples had been seen again, down-weighted: G = G + w·G', A = (N·A + w·N'·A')/(N + w·N').
     * The factors of the sum are exact up to the sketch rank; the result has this posterior's hyperparameters.
     */
    public LaplacePosterior blendedWith(LaplacePosterior previous, double weight) {
        if (!(weight >= 0)) {
            throw new IllegalArgumentException("blend weight must be ≥ 0, got " + weight);
        }
        if (weight == 0) {
            return this;
        }
        double n = info.examples();
        double np = previous.info.examples() * weight;
        List<PosteriorBlock> merged = new ArrayList<>();
        for (int b = 0; b < blocks.size(); b++) {
            PosteriorBlock mine = blocks.get(b);
            PosteriorBlock theirs = previous.blocks.get(b);
            if (!mine.block().equals(theirs.block())) {
                throw new IllegalArgumentException("cannot blend posteriors of different adapters (" + mine.block().name()
                        + " vs " + theirs.block().name() + ")");
            }
            int rank = info.sketchRank();
            merged.add(new PosteriorBlock(mine.block(),
                    sum(mine.g(), 1, theirs.g(), weight, rank),
                    sum(mine.a(), n / (n + np), theirs.a(), np / (n + np), rank)));
        }
        PosteriorInfo blended = info.withData(Math.round(n + np), info.trainLogLikelihood() + weight * previous.info.trainLogLikelihood());
        return new LaplacePosterior(blended, merged, prior, lastLayerPrior, temperature, link, report);
    }

    /** a·X + b·Y for two PSD factors given as eigenpairs, re-decomposed (sketched when larger than the rank). */
    private static FactorEigen sum(FactorEigen x, double a, FactorEigen y, double b, int rank) {
        KronFactor f = KronFactor.create(x.dim(), rank);
        f.add(x.scaled(a));
        f.add(y.scaled(b));
        return f.eigen();
    }

    /** Number of parameters in the blocks {@code include} accepts. */
    public long parameterCount(Predicate<LoraBlock> include) {
        return blocks.stream().filter(b -> include.test(b.block())).mapToLong(b -> b.block().size()).sum();
    }

    // ------------------------------------------------------------------ evidence

    /** Σ_blocks Σ_ij log(1 + τγ_iα_j/λ) = log det(precision) − P log λ, over the blocks {@code include} accepts. */
    public double logDetRatio(PriorPrecision p, Predicate<LoraBlock> include) {
        double s = 0;
        for (PosteriorBlock b : blocks) {
            if (include.test(b.block())) {
                s += b.logDetRatio(p.lambda(b.block().module()), p.tau());
            }
        }
        return s;
    }

    /** Σ h/(h + λ) over the included blocks (MacKay's γ_eff). */
    public double effectiveParameters(PriorPrecision p, Predicate<LoraBlock> include) {
        double s = 0;
        for (PosteriorBlock b : blocks) {
            if (include.test(b.block())) {
                s += b.effectiveParameters(p.lambda(b.block().module()), p.tau());
            }
        }
        return s;
    }

    /** Σ ‖θ*_b‖² over the included blocks. */
    public double thetaSquared(Predicate<LoraBlock> include) {
        return thetaSquared(include, null);
    }

    /** Σ λ_b ‖θ*_b‖² over the included blocks (unweighted when {@code p} is null). */
    private double thetaSquared(Predicate<LoraBlock> include, PriorPrecision p) {
        double s = 0;
        for (PosteriorBlock b : blocks) {
            if (include.test(b.block())) {
                double t = info.thetaSquared().getOrDefault(b.block().name(), 0.0);
                s += (p == null ? 1 : p.lambda(b.block().module())) * t;
            }
        }
        return s;
    }

    /**
     * Laplace log evidence: log Z = LL* − ½ Σ_m λ_m ‖θ*_m‖² − ½ Σ_k log(1 + h_k/λ), the (2π) terms cancelling;
     * h_k are the eigenvalue products τγ_iα_j of the included blocks.
     */
    public double logEvidence(PriorPrecision p, Predicate<LoraBlock> include) {
        return info.trainLogLikelihood() - 0.5 * thetaSquared(include, p) - 0.5 * logDetRatio(p, include);
    }

    /** d log Z / d log λ for a scalar λ: ½ [Σ h/(h + λ) − λ‖θ*‖²]. */
    public double logEvidenceGradient(PriorPrecision p, Predicate<LoraBlock> include) {
        return 0.5 * (effectiveParameters(p, include) - p.lambda() * thetaSquared(include));
    }

    /** diag Σ in the posterior's parameter order (blocks in order, each row-major). */
    public double[] covarianceDiagonal(PriorPrecision p, Predicate<LoraBlock> include) {
        List<double[]> parts = new ArrayList<>();
        int n = 0;
        for (PosteriorBlock b : blocks) {
            if (include.test(b.block())) {
                double[] d = b.covarianceDiagonal(p.lambda(b.block().module()), p.tau());
                parts.add(d);
                n += d.length;
            }
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] d : parts) {
            System.arraycopy(d, 0, out, at, d.length);
            at += d.length;
        }
        return out;
    }

    // ------------------------------------------------------------------ persistence

    /** Writes the posterior to one safetensors file (atomically); returns the sha256 of its tensor data. */
    public String save(Path file) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        String sha;
        try (OutputStream out = Files.newOutputStream(tmp)) {
            sha = save(out);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return sha;
    }

    /** Writes the posterior's file to a stream; returns the sha256 of its tensor data. */
    public String save(OutputStream out) throws IOException {
        Map<String, Safetensors.Tensor> tensors = new TreeMap<>();
        for (PosteriorBlock b : blocks) {
            String n = b.block().name();
            put(tensors, n + ".G", b.g());
            put(tensors, n + ".A", b.a());
        }
        String sha = digest(tensors);
        ObjectNode meta = JSON.createObjectNode();
        meta.put("format", FORMAT);
        meta.set("info", JSON.valueToTree(info));
        List<Object> layout = new ArrayList<>();
        for (PosteriorBlock b : blocks) {
            layout.add(Map.of("module", b.block().module(), "which", String.valueOf(b.block().which()),
                    "g_dim", b.block().gDim(), "a_dim", b.block().aDim()));
        }
        meta.set("blocks", JSON.valueToTree(layout));
        meta.set("prior", JSON.valueToTree(prior));
        meta.set("last_layer_prior", JSON.valueToTree(lastLayerPrior));
        meta.put("temperature", temperature);
        meta.put("link", link);
        meta.set("report", JSON.valueToTree(report));
        meta.put("sha256", sha);
        Safetensors.write(out, tensors, Map.of("format", "pt", "laplace_lora", JSON.writeValueAsString(meta)));
        return sha;
    }

    /** The posterior file's bytes (as {@link #save} writes them). */
    public byte[] toBytes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        save(out);
        return out.toByteArray();
    }

    /** A posterior from a file's bytes, digest checked. */
    public static LaplacePosterior fromBytes(byte[] bytes) throws IOException {
        return read(Safetensors.read(bytes, "posterior file"));
    }

    /** Reads a posterior and verifies its digest. */
    public static LaplacePosterior load(Path file) throws IOException {
        return read(Safetensors.open(file));
    }

    private static void put(Map<String, Safetensors.Tensor> tensors, String prefix, FactorEigen e) {
        tensors.put(prefix + ".values", Safetensors.Tensor.f64(new long[] {e.rank()}, e.values()));
        tensors.put(prefix + ".vectors", Safetensors.Tensor.f64(new long[] {e.dim(), e.rank()}, e.vectors()));
    }

    /** sha256 over the tensors' names and little-endian float64 bytes, in name order. */
    static String digest(Map<String, Safetensors.Tensor> tensors) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, Safetensors.Tensor> e : new TreeMap<>(tensors).entrySet()) {
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            sha.update(e.getValue().data().duplicate());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static LaplacePosterior read(Safetensors st) throws IOException {
        String metaJson = st.metadata().get("laplace_lora");
        if (metaJson == null) {
            throw new CheckpointException(st.source() + ": not a Laplace-LoRA posterior (no laplace_lora metadata)");
        }
        ObjectNode meta = (ObjectNode) JSON.readTree(metaJson);
        if (!FORMAT.equals(meta.path("format").asText())) {
            throw new CheckpointException(st.source() + ": unknown posterior format " + meta.path("format"));
        }
        PosteriorInfo info = JSON.treeToValue(meta.get("info"), PosteriorInfo.class);
        Map<String, Safetensors.Tensor> tensors = new TreeMap<>();
        List<PosteriorBlock> blocks = new ArrayList<>();
        for (var node : meta.get("blocks")) {
            LoraBlock block = new LoraBlock(node.get("module").asText(), node.get("which").asText().charAt(0),
                    node.get("g_dim").asInt(), node.get("a_dim").asInt());
            FactorEigen g = read(st, block.name() + ".G", block.gDim(), tensors);
            FactorEigen a = read(st, block.name() + ".A", block.aDim(), tensors);
            blocks.add(new PosteriorBlock(block, g, a));
        }
        String sha = digest(tensors);
        if (!sha.equals(meta.path("sha256").asText())) {
            throw new CheckpointException(st.source() + ": tensor data sha256 " + sha + " does not match the recorded "
                    + meta.path("sha256").asText() + "; the file is corrupt");
        }
        return new LaplacePosterior(info, blocks, JSON.treeToValue(meta.get("prior"), PriorPrecision.class),
                JSON.treeToValue(meta.get("last_layer_prior"), PriorPrecision.class), meta.path("temperature").asDouble(1),
                meta.path("link").asText(AUTO_LINK), report(meta));
    }

    /** The tuning report; one this version cannot read is left out (it informs, nothing depends on it). */
    private static FitReport report(ObjectNode meta) {
        try {
            return JSON.treeToValue(meta.get("report"), FitReport.class);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static FactorEigen read(Safetensors st, String prefix, int dim, Map<String, Safetensors.Tensor> tensors)
            throws IOException {
        double[] values = st.loadDoubles(prefix + ".values");
        double[] vectors = st.loadDoubles(prefix + ".vectors");
        tensors.put(prefix + ".values", Safetensors.Tensor.f64(new long[] {values.length}, values));
        tensors.put(prefix + ".vectors", Safetensors.Tensor.f64(new long[] {dim, values.length}, vectors));
        try {
            return new FactorEigen(dim, values, vectors);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(st.source() + ": " + prefix + ": " + e.getMessage(), e);
        }
    }
}
