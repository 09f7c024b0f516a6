package org.laplacelora.streams.calibrator;

import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Prediction;
import org.laplacelora.schemas.avro.Question;

/** One arrival on any of the three joined topics (exactly one field is set). */
record JoinInput(Question question, Prediction prediction, Label label) {
    static JoinInput of(Question q) {
        return new JoinInput(q, null, null);
    }

    static JoinInput of(Prediction p) {
        return new JoinInput(null, p, null);
    }

    static JoinInput of(Label l) {
        return new JoinInput(null, null, l);
    }
}
