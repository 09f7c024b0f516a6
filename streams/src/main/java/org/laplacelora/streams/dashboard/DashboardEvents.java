package org.laplacelora.streams.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.laplacelora.schemas.avro.CalibrationMetrics;
import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.HeldOutMetrics;
import org.laplacelora.schemas.avro.PosteriorManifest;
import org.laplacelora.schemas.avro.RefitReport;
import org.laplacelora.schemas.avro.ReliabilityBin;

/** What the page is sent of each record: the fields it draws, as compact JSON (times in ms since the epoch). */
final class DashboardEvents {
    static final ObjectMapper JSON = new ObjectMapper();

    private DashboardEvents() {}

    static ObjectNode metrics(CalibrationMetrics m) {
        ObjectNode e = event("metrics", m.getEmittedAt()).put("method", m.getMethod()).put("scope", m.getScope())
                .put("segment", m.getSegment()).put("version", m.getPosteriorVersion()).put("n", m.getN())
                .put("accuracy", m.getAccuracy()).put("ece", m.getEce()).put("nll", m.getNll()).put("brier", m.getBrier())
                .put("overconfidence", m.getMeanConfidenceMinusAccuracy()).put("missing", m.getLabelsMissing())
                .put("late", m.getLabelsLate()).put("open", m.getOpenPredictions()).put("estimated", m.getEstimatedAccuracy())
                .put("firstOutcome", m.getFirstOutcome()).put("lastOutcome", m.getLastOutcome());
        ArrayNode bins = e.putArray("bins");
        for (ReliabilityBin b : m.getBins()) {
            bins.addObject().put("lower", b.getLower()).put("upper", b.getUpper()).put("count", b.getCount())
                    .put("confidence", b.getMeanConfidence()).put("accuracy", b.getAccuracy());
        }
        return e;
    }

    static ObjectNode drift(DriftEvent d) {
        return event("drift", d.getDetectedAt()).put("detector", d.getDetector()).put("kind", d.getKind() == null ? "label" : d.getKind())
                .put("method", d.getMethod()).put("statistic", d.getStatistic()).put("threshold", d.getThreshold())
                .put("atOutcome", d.getAtOutcome()).put("version", d.getPosteriorVersion());
    }

    static ObjectNode refit(RefitReport r) {
        ObjectNode e = event("refit", r.getReportedAt()).put("version", r.getVersion()).put("accepted", r.getAccepted())
                .put("reason", r.getReason()).put("trigger", r.getTrigger()).put("mode", r.getRefitMode()).put("seconds", r.getSeconds())
                .put("buffer", r.getBufferSize()).put("forgetting", r.getForgetting());
        heldOut(e, "before", r.getHeldOutBefore());
        heldOut(e, "after", r.getHeldOutAfter());
        return e;
    }

    static ObjectNode posterior(PosteriorManifest m) {
        return event("posterior", m.getCreatedAt()).put("version", m.getVersion()).put("trigger", m.getTrigger())
                .put("priorPrecision", m.getPriorPrecision()).put("temperature", m.getTemperature()).put("mode", m.getRefitMode())
                .put("examples", m.getExamples());
    }

    /** Predictions of one second, counted per posterior version. */
    static ObjectNode predictions(long second, java.util.Map<Long, Long> perVersion) {
        ObjectNode e = JSON.createObjectNode().put("type", "predictions").put("t", second);
        ObjectNode versions = e.putObject("versions");
        perVersion.forEach((v, n) -> versions.put(Long.toString(v), n));
        return e;
    }

    private static void heldOut(ObjectNode e, String name, HeldOutMetrics m) {
        if (m != null) {
            e.putObject(name).put("n", m.getN()).put("accuracy", m.getAccuracy()).put("ece", m.getEce()).put("nll", m.getNll());
        }
    }

    private static ObjectNode event(String type, Instant at) {
        return JSON.createObjectNode().put("type", type).put("t", at == null ? 0 : at.toEpochMilli());
    }
}
