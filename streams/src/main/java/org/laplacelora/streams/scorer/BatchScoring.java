package org.laplacelora.streams.scorer;

import java.util.List;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.streams.posteriors.ServedModel;

/** Scores a micro-batch of validated questions, predictions in its order: {@link QuestionScorer}, or a wrapper around it. */
@FunctionalInterface
public interface BatchScoring {
    List<Prediction> score(List<ServedModel.Valid> batch, long startedAtMillis);
}
