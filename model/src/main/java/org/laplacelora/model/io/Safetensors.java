package org.laplacelora.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A safetensors file: 8-byte little-endian header length, a JSON header naming every tensor's dtype,
 * shape and byte range, then the raw little-endian data.
 *
 * <p>Reading a file memory-maps each tensor, so a multi-GB checkpoint costs address space, not heap. Float32
 * tensors become NDArrays without a copy (the mapping must outlive them: this object keeps it). A file's
 * bytes already in memory (a posterior assembled from Kafka) are read in place.
 * BF16 is widened to float32 in Java because DJL 0.36 aborts the JVM on any bf16 array.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER_BYTES = 100L << 20;

    /** One tensor's entry in the header. */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Where the tensor bytes are: a file mapped tensor by tensor, or an array in memory. */
    private interface Data {
        ByteBuffer slice(long begin, long length) throws IOException;
    }

    private final String source;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Data data;
    /** Mappings handed to DJL without a copy; held so the GC never unmaps memory a tensor still uses. */
    private final List<ByteBuffer> pinned = Collections.synchronizedList(new ArrayList<>());

    private Safetensors(String source, Map<String, TensorInfo> tensors, Map<String, String> metadata, Data data) {
        this.source = source;
        this.tensors = tensors;
        this.metadata = metadata;
        this.data = data;
    }

    /** Reads and validates the header; tensor data is mapped lazily by {@link #load}. */
    public static Safetensors open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file not found");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(file + ": not a safetensors file (" + size + " bytes)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
                throw new IOException(file + ": bad safetensors header length " + headerLen);
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            long dataStart = 8 + headerLen;
            return parse(file.toString(), header.array(), size - dataStart, (begin, length) -> {
                try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                    return c.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, length);
                }
            });
        }
    }

    /** A safetensors file's bytes, read in place; {@code source} names them in error messages. */
    public static Safetensors read(byte[] bytes, String source) throws IOException {
        if (bytes.length < 8) {
            throw new IOException(source + ": not a safetensors file (" + bytes.length + " bytes)");
        }
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.length) {
            throw new IOException(source + ": bad safetensors header length " + headerLen);
        }
        int dataStart = 8 + (int) headerLen;
        return parse(source, Arrays.copyOfRange(bytes, 8, dataStart), bytes.length - dataStart,
                (begin, length) -> ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) length).slice());
    }

    private static Safetensors parse(String source, byte[] header, long dataLen, Data data) throws IOException {
        Map<String, Object> raw;
        try {
            raw = JSON.readValue(new String(header, StandardCharsets.UTF_8), new TypeReference<>() {});
        } catch (IOException e) {
            throw new IOException(source + ": safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new TreeMap<>();
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                if (e.getValue() instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
                }
                continue;
            }
            tensors.put(e.getKey(), parseEntry(source, e.getKey(), e.getValue(), dataLen));
        }
        return new Safetensors(source, tensors, metadata, data);
    }

    private static TensorInfo parseEntry(String file, String name, Object value, long dataLen) throws IOException {
        if (!(value instanceof Map<?, ?> m)) {
            throw new IOException(file + ": tensor " + name + ": header entry is not an object");
        }
        Object dtype = m.get("dtype");
        Object shape = m.get("shape");
        Object offsets = m.get("data_offsets");
        if (!(dtype instanceof String) || !(shape instanceof List<?> s) || !(offsets instanceof List<?> o) || o.size() != 2) {
            throw new IOException(file + ": tensor " + name + ": header entry needs dtype, shape and data_offsets");
        }
        long[] dims = new long[s.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = ((Number) s.get(i)).longValue();
        }
        long begin = ((Number) o.get(0)).longValue();
        long end = ((Number) o.get(1)).longValue();
        TensorInfo info = new TensorInfo(name, (String) dtype, dims, begin, end);
        long expected = info.elementCount() * bytesPer(file, name, (String) dtype);
        if (begin < 0 || end < begin || end > dataLen || end - begin != expected) {
            throw new IOException(file + ": tensor " + name + ": data_offsets [" + begin + ", " + end
                    + ") do not hold " + info.elementCount() + " " + dtype + " values within " + dataLen + " data bytes");
        }
        return info;
    }

    private static int bytesPer(String file, String name, String dtype) throws IOException {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "U8", "I8", "BOOL" -> 1;
            default -> throw new IOException(file + ": tensor " + name + ": unsupported dtype " + dtype);
        };
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** The file, or what the bytes were, for error messages. */
    public String source() {
        return source;
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(source + ": no tensor named " + name);
        }
        return t;
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** The tensor's bytes (mapped read-only from a file), little-endian. */
    public ByteBuffer bytes(String name) throws IOException {
        TensorInfo t = info(name);
        long length = t.end() - t.begin();
        if (length > Integer.MAX_VALUE) {
            throw new IOException(source + ": tensor " + name + " is larger than 2 GiB, which one mapping cannot hold");
        }
        return data.slice(t.begin(), length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Loads a tensor as float32 (F32 zero-copy from the mapping; F16, BF16 and F64 converted) on the
     * given manager. The caller must not write into the returned array.
     */
    public NDArray loadFloat32(NDManager manager, String name) throws IOException {
        TensorInfo t = info(name);
        Shape shape = new Shape(t.shape());
        ByteBuffer data = bytes(name);
        switch (t.dtype()) {
            case "F32" -> {
                pinned.add(data);
                return manager.create(data, shape, DataType.FLOAT32);
            }
            case "F16", "F64" -> {
                DataType type = t.dtype().equals("F16") ? DataType.FLOAT16 : DataType.FLOAT64;
                try (NDArray raw = manager.create(data, shape, type)) {
                    return raw.toType(DataType.FLOAT32, false);
                }
            }
            case "BF16" -> {
                return manager.create(bf16ToFloat32(data), shape, DataType.FLOAT32);
            }
            default -> throw new IOException(source + ": tensor " + name + ": dtype " + t.dtype() + " is not a float type");
        }
    }

    /** Copies a float tensor into a Java float array (for weights that will be trained). */
    public float[] loadFloats(String name) throws IOException {
        double[] d = loadDoubles(name);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** Loads a float tensor into a Java array in float64 (for small, exact quantities). */
    public double[] loadDoubles(String name) throws IOException {
        TensorInfo t = info(name);
        ByteBuffer data = bytes(name);
        int n = Math.toIntExact(t.elementCount());
        double[] out = new double[n];
        switch (t.dtype()) {
            case "F64" -> data.asDoubleBuffer().get(out);
            case "F32" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = data.getFloat(4 * i);
                }
            }
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(data.getShort(2 * i));
                }
            }
            case "BF16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((data.getShort(2 * i) & 0xFFFF) << 16);
                }
            }
            default -> throw new IOException(source + ": tensor " + name + ": dtype " + t.dtype() + " is not a float type");
        }
        return out;
    }

    /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal half (or zero)
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bf16 holds the top 16 bits of a float32, so widening is a shift. */
    static ByteBuffer bf16ToFloat32(ByteBuffer bf16) {
        int n = bf16.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            out.putInt(i * 4, (bf16.getShort(bf16.position() + 2 * i) & 0xFFFF) << 16);
        }
        return out;
    }

    // ---------------------------------------------------------------- writing

    /** A tensor to write: float32 or float64 values, row-major. */
    public record Tensor(String dtype, long[] shape, ByteBuffer data) {
        public static Tensor f32(long[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new Tensor("F32", shape, b);
        }

        public static Tensor f64(long[] shape, double[] values) {
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(values);
            return new Tensor("F64", shape, b);
        }

        public static Tensor of(NDArray array) {
            DataType type = array.getDataType();
            String dtype = switch (type) {
                case FLOAT32 -> "F32";
                case FLOAT64 -> "F64";
                default -> throw new IllegalArgumentException("cannot write " + type + " tensors");
            };
            ByteBuffer b = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            return new Tensor(dtype, array.getShape().getShape(), b);
        }
    }

    /**
     * Writes tensors widest dtype first, then by name, so every tensor stays aligned to its element size
     * (the format allows no holes between tensors); the header is padded with spaces to 8 bytes as the
     * reference implementation does. Written to a temporary file and moved into place, so a reader never
     * sees half a file.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.TRUNCATE_EXISTING))) {
            write(out, tensors, metadata);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes the file's bytes to a stream, laid out as {@link #write(Path, Map, Map)} does. */
    public static void write(OutputStream out, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new TreeMap<>(metadata));
        }
        long offset = 0;
        List<String> names = new ArrayList<>(new TreeMap<>(tensors).keySet());
        names.sort(Comparator.comparingInt((String n) -> -width(tensors.get(n).dtype())));
        for (String name : names) {
            Tensor t = tensors.get(name);
            long len = t.data().remaining();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype());
            entry.put("shape", t.shape());
            entry.put("data_offsets", new long[] {offset, offset + len});
            header.put(name, entry);
            offset += len;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        out.write(head.array());
        WritableByteChannel channel = Channels.newChannel(out);
        for (String name : names) {
            ByteBuffer b = tensors.get(name).data().duplicate();
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
        out.flush();
    }

    private static int width(String dtype) {
        return dtype.equals("F64") ? 8 : 4;
    }
}
