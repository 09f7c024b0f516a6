package org.laplacelora.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.laplacelora.model.io.Safetensors;
import org.laplacelora.model.laplace.curvature.FisherType;
import org.laplacelora.model.laplace.fit.LaplaceFit;
import org.laplacelora.model.llama.Llama;
import org.laplacelora.model.llama.ModelLoader;
import org.laplacelora.model.lora.LoraAdapter;
import org.laplacelora.model.tasks.EncodedExample;
import org.laplacelora.model.tasks.TaskKind;

/**
 * A float64 Laplace-LoRA reference case on stories260K, loaded once per test class, in float64: case 1
 * (two classes, prior-dominated) or case 2 (four classes, curvature comparable to the prior).
 */
public final class ReferenceCase implements AutoCloseable {
    public final JsonNode json;
    public final Safetensors arrays;
    public final ModelLoader.LoadedModel loaded;
    public final Llama llama;
    public final NDManager manager = NDManager.newBaseManager(Device.cpu());
    public final LoraAdapter adapter;
    public final int[] answerIds;
    public final List<EncodedExample> train;
    public final List<EncodedExample> test;

    private ReferenceCase(String name) {
        String dir = "laplace-" + name + "/" + name;
        json = Fixtures.json(dir + ".json");
        try {
            arrays = Safetensors.open(Fixtures.path(dir + "_arrays_subset.safetensors"));
            loaded = ModelLoader.load(Fixtures.stories260kBin(), Fixtures.tok512(), Device.cpu());
            llama = loaded.llama().withDataType(DataType.FLOAT64);
            adapter = LoraAdapter.load(Fixtures.path(dir + "_adapter"), llama, manager);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        answerIds = Fixtures.ints(json.get("answer_tokens").get("ids"));
        train = examples("train");
        test = examples("test");
    }

    /** Two classes (WinoGrande); at λ = 1 the posterior is prior-dominated. */
    public static ReferenceCase case1() {
        return new ReferenceCase("case1");
    }

    /** Four classes (ARC-Easy), curvature comparable to the prior at λ = 1. */
    public static ReferenceCase case2() {
        return new ReferenceCase("case2");
    }

    public int classes() {
        return answerIds.length;
    }

    /** An exact-Fisher fit of this case's task: WinoGrande's A/B for case 1, ARC's A–D for case 2. */
    public LaplaceFit.Settings fitSettings(int sketchRank, int batchSize) {
        TaskKind task = classes() == 2 ? TaskKind.WINOGRANDE : TaskKind.ARC;
        return new LaplaceFit.Settings(task.id(), task.answers(), answerIds, FisherType.EXACT, sketchRank, batchSize, 0, 0);
    }

    private List<EncodedExample> examples(String split) {
        List<EncodedExample> out = new ArrayList<>();
        int i = 0;
        for (JsonNode e : json.get(split)) {
            out.add(new EncodedExample(split + i++, Fixtures.ints(e.get("ids")), e.get("label").asInt()));
        }
        return out;
    }

    public double lambda() {
        return json.get("lambda").asDouble();
    }

    public double[] doubles(String tensor) {
        try {
            return arrays.loadDoubles(tensor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static double relativeError(double[] got, double[] want) {
        double err = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return scale == 0 ? err : err / scale;
    }

    @Override
    public void close() {
        adapter.close();
        manager.close();
        llama.close();
        loaded.close();
    }
}
