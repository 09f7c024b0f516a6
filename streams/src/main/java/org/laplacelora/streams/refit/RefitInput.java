package org.laplacelora.streams.refit;

import org.laplacelora.schemas.avro.DriftEvent;
import org.laplacelora.schemas.avro.LabelledOutcome;
import org.laplacelora.schemas.avro.RefitRequest;

/** One arrival on any of the refitter's three input topics (exactly one field is set). */
record RefitInput(LabelledOutcome outcome, DriftEvent drift, RefitRequest request) {
    static RefitInput of(LabelledOutcome o) {
        return new RefitInput(o, null, null);
    }

    static RefitInput of(DriftEvent d) {
        return new RefitInput(null, d, null);
    }

    static RefitInput of(RefitRequest r) {
        return new RefitInput(null, null, r);
    }
}
