package org.laplacelora.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.laplacelora.model.core.CheckpointException;
import org.laplacelora.model.io.Safetensors;
import org.laplacelora.model.llama.Linear;
import org.laplacelora.model.llama.Llama;

/**
 * The LoRA matrices of every adapted module of one model, in PEFT's on-disk format:
 * {@code adapter_config.json} and {@code adapter_model.safetensors} with tensors named
 * {@code base_model.model.<module>.lora_A.weight} / {@code .lora_B.weight}.
 */
public final class LoraAdapter implements AutoCloseable {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    private static final String PREFIX = "base_model.model.";
    /** Metadata key of the configuration in {@link #toBytes}' file. */
    private static final String CONFIG_METADATA = "adapter_config";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LoraConfig config;
    private final NDManager manager;
    private final Map<String, LoraWeights> modules;
    private final NDArray scale;

    private LoraAdapter(LoraConfig config, NDManager manager, Map<String, LoraWeights> modules) {
        this.config = config;
        this.manager = manager;
        this.modules = Collections.unmodifiableMap(modules);
        DataType type = modules.values().iterator().next().a().getDataType();
        this.scale = manager.create(config.scale()).toType(type, false);
    }

    /**
     * A fresh adapter as PEFT initialises one: A ~ U(-1/√in, 1/√in) (Kaiming-uniform with a = √5),
     * B = 0, so the adapted model starts equal to the base model.
     */
    public static LoraAdapter initialise(Llama model, LoraConfig config, long seed, NDManager parent) {
        Random random = new Random(seed);
        NDManager m = parent.newSubManager(model.device());
        Map<String, LoraWeights> modules = new LinkedHashMap<>();
        for (Linear linear : model.linears().values()) {
            if (!config.targets(linear.name())) {
                continue;
            }
            int in = (int) linear.inFeatures();
            int out = (int) linear.outFeatures();
            double bound = 1.0 / Math.sqrt(in);
            float[] a = new float[config.rank() * in];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) ((2 * random.nextDouble() - 1) * bound);
            }
            DataType type = linear.weight().getDataType();
            modules.put(linear.name(), new LoraWeights(
                    m.create(a, new Shape(config.rank(), in)).toType(type, false),
                    m.zeros(new Shape(out, config.rank()), type)));
        }
        if (modules.isEmpty()) {
            m.close();
            throw new IllegalArgumentException("no module of the model matches the LoRA target modules " + config.targetModules());
        }
        return new LoraAdapter(config.withBaseModel(model.identity()), m, modules);
    }

    /** Reads a PEFT adapter directory and checks it against the model's modules and shapes. */
    public static LoraAdapter load(Path dir, Llama model, NDManager parent) throws IOException {
        LoraConfig config = readConfig(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": no " + WEIGHTS_FILE + " (PEFT adapters store their weights there)");
        }
        return of(config, Safetensors.open(file), model, parent);
    }

    /** An adapter from the bytes {@link #toBytes} wrote (its configuration rides in the file's metadata). */
    public static LoraAdapter fromBytes(byte[] bytes, Llama model, NDManager parent) throws IOException {
        Safetensors st = Safetensors.read(bytes, "adapter file");
        String config = st.metadata().get(CONFIG_METADATA);
        if (config == null) {
            throw new CheckpointException(st.source() + ": no " + CONFIG_METADATA + " metadata (not an adapter file)");
        }
        return of(parseConfig(JSON.readTree(config), st.source()), st, model, parent);
    }

    private static LoraAdapter of(LoraConfig config, Safetensors st, Llama model, NDManager parent) throws IOException {
        NDManager m = parent.newSubManager(model.device());
        try {
            Map<String, LoraWeights> modules = new LinkedHashMap<>();
            TreeSet<String> unused = new TreeSet<>(st.names());
            for (Linear linear : model.linears().values()) {
                String a = PREFIX + linear.name() + ".lora_A.weight";
                String b = PREFIX + linear.name() + ".lora_B.weight";
                if (!st.contains(a) && !st.contains(b)) {
                    continue;
                }
                long[] shapeA = {config.rank(), linear.inFeatures()};
                long[] shapeB = {linear.outFeatures(), config.rank()};
                DataType type = linear.weight().getDataType();
                modules.put(linear.name(), new LoraWeights(
                        tensor(st, m, a, shapeA).toType(type, false), tensor(st, m, b, shapeB).toType(type, false)));
                unused.remove(a);
                unused.remove(b);
            }
            if (!unused.isEmpty()) {
                throw new CheckpointException(st.source() + ": tensors that match no module of the model: "
                        + new ArrayList<>(unused).subList(0, Math.min(5, unused.size())));
            }
            requireSomeModule(config, modules, st.source());
            return new LoraAdapter(config, m, modules);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static NDArray tensor(Safetensors st, NDManager m, String name, long[] shape) throws IOException {
        if (!st.contains(name)) {
            throw new CheckpointException(st.source() + ": missing tensor " + name);
        }
        long[] got = st.info(name).shape();
        if (!Arrays.equals(got, shape)) {
            throw new CheckpointException(st.source() + ": tensor " + name + " has shape " + Arrays.toString(got)
                    + ", but the model and r=" + shape[shape[0] < shape[1] ? 0 : 1] + " need " + Arrays.toString(shape));
        }
        // A copy, not a mapping: adapters are trained in place.
        return m.create(st.loadFloats(name), new Shape(shape));
    }

    private static void requireSomeModule(LoraConfig config, Map<String, LoraWeights> modules, String where)
            throws CheckpointException {
        if (modules.isEmpty()) {
            throw new CheckpointException(where + ": no module matches the LoRA target modules " + config.targetModules());
        }
    }

    public static LoraConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + ": no " + CONFIG_FILE + " (not a PEFT adapter directory)");
        }
        JsonNode c;
        try {
            c = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        return parseConfig(c, file.toString());
    }

    private static LoraConfig parseConfig(JsonNode c, String source) throws CheckpointException {
        String type = c.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) {
            throw new CheckpointException(source + ": peft_type " + type + " is not LORA");
        }
        if (!c.path("r").isNumber()) {
            throw new CheckpointException(source + ": missing numeric field \"r\"");
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = c.path("target_modules");
        if (t.isTextual()) {
            throw new CheckpointException(source + ": target_modules as a regular expression is not supported; list the modules");
        }
        t.forEach(n -> targets.add(n.asText()));
        try {
            return new LoraConfig(c.get("r").asInt(), c.path("lora_alpha").asDouble(c.get("r").asInt()),
                    c.path("lora_dropout").asDouble(0), targets, c.path("base_model_name_or_path").asText(""),
                    c.path("use_rslora").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(source + ": " + e.getMessage(), e);
        }
    }

    /** Writes the adapter as PEFT does (float32 tensors, {@code adapter_config.json}). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve(WEIGHTS_FILE), tensors(), Map.of("format", "pt"));
        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(CONFIG_FILE).toFile(), configJson());
    }

    /** The adapter as one file's bytes: PEFT's tensors, with the configuration in the metadata (for a topic). */
    public byte[] toBytes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Safetensors.write(out, tensors(), Map.of("format", "pt", CONFIG_METADATA, JSON.writeValueAsString(configJson())));
        return out.toByteArray();
    }

    private Map<String, Safetensors.Tensor> tensors() {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, LoraWeights> e : modules.entrySet()) {
            tensors.put(PREFIX + e.getKey() + ".lora_A.weight", float32(e.getValue().a()));
            tensors.put(PREFIX + e.getKey() + ".lora_B.weight", float32(e.getValue().b()));
        }
        return tensors;
    }

    private ObjectNode configJson() {
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", "LORA");
        c.put("task_type", "CAUSAL_LM");
        c.put("r", config.rank());
        c.put("lora_alpha", config.alpha());
        c.put("lora_dropout", config.dropout());
        c.putPOJO("target_modules", config.targetModules());
        c.put("base_model_name_or_path", config.baseModel());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("use_rslora", config.rsLora());
        return c;
    }

    private static Safetensors.Tensor float32(NDArray a) {
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return Safetensors.Tensor.of(f);
        }
    }

    public LoraConfig config() {
        return config;
    }

    /** alpha / r as a 0-d tensor of the weights' type and device (a scalar operand costs four times more in DJL). */
    NDArray scaleTensor() {
        return scale;
    }

    /** The LoRA matrices of a module, or null when the module is not adapted. */
    public LoraWeights weights(String module) {
        return modules.get(module);
    }

    /** Adapted modules in forward order. */
    public Map<String, LoraWeights> modules() {
        return modules;
    }

    /** Every trainable matrix, A then B per module, in forward order. */
    public List<NDArray> parameters() {
        List<NDArray> p = new ArrayList<>();
        modules.values().forEach(w -> {
            p.add(w.a());
            p.add(w.b());
        });
        return p;
    }

    /** "sha256:…" of the adapter's configuration and float32 weights, in module order. */
    public String identity() {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update((config.rank() + "/" + config.alpha() + "/" + config.rsLora()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (Map.Entry<String, LoraWeights> e : modules.entrySet()) {
            sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(float32(e.getValue().a()).data());
            sha.update(float32(e.getValue().b()).data());
        }
        return "sha256:" + java.util.HexFormat.of().formatHex(sha.digest());
    }

    public long parameterCount() {
        return parameters().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    public void setRequiresGradient(boolean requires) {
        parameters().forEach(p -> p.setRequiresGradient(requires));
    }

    /** An independent copy of the weights (to be trained without touching this one). */
    public LoraAdapter copy(NDManager parent) {
        NDManager m = parent.newSubManager(manager.getDevice());
        Map<String, LoraWeights> copy = new LinkedHashMap<>();
        modules.forEach((k, w) -> copy.put(k, new LoraWeights(w.a().duplicate(), w.b().duplicate())));
        copy.values().forEach(w -> {
            w.a().attach(m);
            w.b().attach(m);
        });
        return new LoraAdapter(config, m, copy);
    }

    /** The same adapter with B = 0 everywhere (the base model's function). */
    public LoraAdapter withZeroB(NDManager parent) {
        NDManager m = parent.newSubManager(manager.getDevice());
        Map<String, LoraWeights> copy = new LinkedHashMap<>();
        modules.forEach((k, w) -> copy.put(k, new LoraWeights(w.a().duplicate(), m.zeros(w.b().getShape()))));
        copy.values().forEach(w -> w.a().attach(m));
        return new LoraAdapter(config, m, copy);
    }

    @Override
    public void close() {
        manager.close();
    }
}
