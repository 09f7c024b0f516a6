package org.laplacelora.model.laplace;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.laplacelora.model.io.CheckpointException;
import org.laplacelora.model.io.Safetensors;

/**
 * A Kronecker-factored Laplace posterior over the LoRA weights: q(θ) = N(θ*, Σ), Σ⁻¹ = blockdiag(τ·G ⊗ A) + λI,
 * one block per LoRA matrix, each kept as the eigenpairs of its two factors (full rank, or low rank with
 * the rest of the space prior-only). It also carries the hyperparameters of the last-layer Laplace
 * baseline (the LM head's blocks alone, with their own λ) and the temperature of the temperature-scaling
 * baseline, fitted together, so one file serves all of MAP, TS, LLLA and Laplace-LoRA.
 *
 * <p>Saved as one safetensors file: float64 eigenpairs per block, JSON metadata (what it was fitted on,
 * the hyperparameters, the tuning report) and the sha256 of the tensor data, checked on load.
 */
public final class LaplacePosterior {
    public static final Predicate<LoraBlock> ALL = b -> true;
    public static final Predicate<LoraBlock> HEAD = LoraBlock::isHead;
    static final String FORMAT = "laplace-lora-posterior-v1";
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private final PosteriorInfo info;
    private final List<PosteriorBlock> blocks;
    private PriorPrecision prior;
    private PriorPrecision lastLayerPrior;
    private double temperature = 1;
    private Map<String, Object> report = new LinkedHashMap<>();

    LaplacePosterior(PosteriorInfo info, List<PosteriorBlock> blocks, PriorPrecision prior) {
        this.info = info;
        this.blocks = List.copyOf(blocks);
        this.prior = prior;
        this.lastLayerPrior = prior;
    }

    /** The posterior of a curvature, with prior precision 1 until tuned. */
    public static LaplacePosterior fromCurvature(Curvature curvature, PosteriorInfo info) {
        List<PosteriorBlock> blocks = new ArrayList<>();
        for (KfacFactors f : curvature.blocks().values()) {
            blocks.add(new PosteriorBlock(f.block(), f.gEigen(), f.aEigen()));
        }
        return new LaplacePosterior(info, blocks, PriorPrecision.of(1));
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

    public void setPrior(PriorPrecision p) {
        this.prior = p;
    }

    /** Last-layer Laplace's hyperparameters (LM-head blocks only). */
    public PriorPrecision lastLayerPrior() {
        return lastLayerPrior;
    }

    public void setLastLayerPrior(PriorPrecision p) {
        this.lastLayerPrior = p;
    }

    /** Temperature of the temperature-scaling baseline (softmax(μ/T)), fitted on the same validation data. */
    public double temperature() {
        return temperature;
    }

    public void setTemperature(double t) {
        this.temperature = t;
    }

    /** How the hyperparameters were chosen (grids, optima, boundary warnings), saved with the posterior. */
    public Map<String, Object> report() {
        return report;
    }

    public void setReport(Map<String, Object> r) {
        this.report = new LinkedHashMap<>(r);
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
                    combine(mine.g(), 1, theirs.g(), weight, rank),
                    combine(mine.a(), n / (n + np), theirs.a(), np / (n + np), rank)));
        }
        PosteriorInfo blended = new PosteriorInfo(info.modelIdentity(), info.adapterIdentity(), info.task(), info.answers(),
                info.answerIds(), info.templateVersion(), info.convention(), info.fisher(), info.sketchRank(),
                Math.round(n + np), info.trainLogLikelihood() + weight * previous.info.trainLogLikelihood(), info.thetaSquared());
        LaplacePosterior p = new LaplacePosterior(blended, merged, prior);
        p.lastLayerPrior = lastLayerPrior;
        p.temperature = temperature;
        return p;
    }

    /** a·X + b·Y for two PSD factors given as eigenpairs, re-decomposed (sketched when larger than the rank). */
    private static FactorEigen combine(FactorEigen x, double a, FactorEigen y, double b, int rank) {
        KronFactor f = KronFactor.create(x.dim(), rank);
        f.merge(scaled(x, a));
        f.merge(scaled(y, b));
        return f.eigen();
    }

    private static KronFactor scaled(FactorEigen e, double c) {
        double[] values = e.values().clone();
        for (int i = 0; i < values.length; i++) {
            values[i] *= c;
        }
        return new Eigenpairs(new FactorEigen(e.dim(), values, e.vectors()));
    }

    /** Number of parameters in the blocks {@code include} accepts. */
    public long parameterCount(Predicate<LoraBlock> include) {
        return blocks.stream().filter(b -> include.test(b.block())).mapToLong(b -> b.block().size()).sum();
    }

    // ------------------------------------------------------------------ projections and covariance

    /** Projects a batch's Jacobians onto the blocks' eigenbases (λ- and τ-independent). */
    public ProjectedJacobians project(JacobianBatch jacobians) {
        int n = jacobians.size();
        int k = -1;
        double[][] rotated = new double[blocks.size()][];
        double[][] grams = new double[blocks.size()][];
        for (int b = 0; b < blocks.size(); b++) {
            PosteriorBlock block = blocks.get(b);
            NDArray j = jacobians.blocks().get(block.block().name());
            if (j == null) {
                // a head-only batch (last-layer Laplace) carries no Jacobians for the other blocks
                rotated[b] = new double[0];
                grams[b] = new double[0];
                continue;
            }
            NDManager m = j.getManager();
            k = (int) j.getShape().get(1);
            NDArray qg = block.qg(m);
            NDArray qa = block.qa(m);
            NDArray jt = qg.transpose().matMul(j).matMul(qa);                               // [B, K, kG, kA]
            rotated[b] = jt.toDoubleArray();
            NDArray flat = j.reshape(n, k, -1);
            grams[b] = flat.matMul(flat.swapAxes(1, 2)).toDoubleArray();                     // [B, K, K]
            for (NDArray a : new NDArray[] {qg, qa, jt, flat}) {
                a.close();
            }
        }
        if (k < 0) {
            throw new IllegalArgumentException("the Jacobians cover none of the posterior's blocks");
        }
        for (int b = 0; b < blocks.size(); b++) {
            if (rotated[b].length == 0) {
                rotated[b] = new double[n * k * blocks.get(b).keptPairs()];
                grams[b] = new double[n * k * k];
            }
        }
        return new ProjectedJacobians(n, k, blocks, rotated, grams);
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

    /** Σ ‖θ*_b‖² over the included blocks, each times its λ when {@code weighted}. */
    double thetaSquared(Predicate<LoraBlock> include, PriorPrecision p, boolean weighted) {
        double s = 0;
        for (PosteriorBlock b : blocks) {
            if (include.test(b.block())) {
                double t = info.thetaSquared().getOrDefault(b.block().name(), 0.0);
                s += (weighted ? p.lambda(b.block().module()) : 1) * t;
            }
        }
        return s;
    }

    /**
     * Laplace log evidence: log Z = LL* − ½ Σ_m λ_m ‖θ*_m‖² − ½ Σ_k log(1 + h_k/λ), the (2π) terms cancelling;
     * h_k are the eigenvalue products τγ_iα_j of the included blocks.
     */
    public double logEvidence(PriorPrecision p, Predicate<LoraBlock> include) {
        return info.trainLogLikelihood() - 0.5 * thetaSquared(include, p, true) - 0.5 * logDetRatio(p, include);
    }

    /** d log Z / d log λ for a scalar λ: ½ [Σ h/(h + λ) − λ‖θ*‖²]. */
    public double logEvidenceGradient(PriorPrecision p, Predicate<LoraBlock> include) {
        return 0.5 * (effectiveParameters(p, include) - p.lambda() * thetaSquared(include, p, false));
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

    /** Writes the posterior to one safetensors file; returns the sha256 of its tensor data. */
    public String save(Path file) throws IOException {
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
        ArrayList<Object> layout = new ArrayList<>();
        for (PosteriorBlock b : blocks) {
            layout.add(Map.of("module", b.block().module(), "which", String.valueOf(b.block().which()),
                    "g_dim", b.block().gDim(), "a_dim", b.block().aDim()));
        }
        meta.set("blocks", JSON.valueToTree(layout));
        meta.set("prior", JSON.valueToTree(prior));
        meta.set("last_layer_prior", JSON.valueToTree(lastLayerPrior));
        meta.put("temperature", temperature);
        meta.set("report", JSON.valueToTree(report));
        meta.put("sha256", sha);
        Safetensors.write(file, tensors, Map.of("format", "pt", "laplace_lora", JSON.writeValueAsString(meta)));
        return sha;
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
            sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(e.getValue().data().duplicate());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The posterior file's bytes (as {@link #save} writes them). */
    public byte[] toBytes() throws IOException {
        Path tmp = java.nio.file.Files.createTempFile("posterior", ".safetensors");
        try {
            save(tmp);
            return java.nio.file.Files.readAllBytes(tmp);
        } finally {
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }

    /** A posterior from a file's bytes, digest checked. */
    public static LaplacePosterior fromBytes(byte[] bytes) throws IOException {
        Path tmp = java.nio.file.Files.createTempFile("posterior", ".safetensors");
        try {
            java.nio.file.Files.write(tmp, bytes);
            return load(tmp);
        } finally {
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }

    /** Reads a posterior and verifies its digest. */
    public static LaplacePosterior load(Path file) throws IOException {
        Safetensors st = Safetensors.open(file);
        String metaJson = st.metadata().get("laplace_lora");
        if (metaJson == null) {
            throw new CheckpointException(file + ": not a Laplace-LoRA posterior (no laplace_lora metadata)");
        }
        ObjectNode meta = (ObjectNode) JSON.readTree(metaJson);
        if (!FORMAT.equals(meta.path("format").asText())) {
            throw new CheckpointException(file + ": unknown posterior format " + meta.path("format"));
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
            throw new CheckpointException(file + ": tensor data sha256 " + sha + " does not match the recorded "
                    + meta.path("sha256").asText() + "; the file is corrupt");
        }
        LaplacePosterior p = new LaplacePosterior(info, blocks, JSON.treeToValue(meta.get("prior"), PriorPrecision.class));
        p.lastLayerPrior = JSON.treeToValue(meta.get("last_layer_prior"), PriorPrecision.class);
        p.temperature = meta.path("temperature").asDouble(1);
        p.report = JSON.convertValue(meta.get("report"), JSON.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
        return p;
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
            throw new CheckpointException(st.file() + ": " + prefix + ": " + e.getMessage(), e);
        }
    }
}
