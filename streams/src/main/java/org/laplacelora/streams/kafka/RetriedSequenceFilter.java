package org.laplacelora.streams.kafka;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;

/**
 * Drops the embedded broker's ERROR for a batch it refused because it arrived before the transactional producer's first
 * one on that partition: with transactions v2 the first sequence must be 0, the refusal is retriable, and the producer
 * retries (KAFKA-18202, Kafka 4.1+). Written by hand because logback's own evaluators match an exception by its class
 * only, and the broker logs real sequence gaps with the same class; those are kept.
 */
public final class RetriedSequenceFilter extends Filter<ILoggingEvent> {
    static final String FIRST_SEQUENCE_REFUSED = "Expected sequence 0 for transactions v2";

    @Override
    public FilterReply decide(ILoggingEvent event) {
        IThrowableProxy thrown = event.getThrowableProxy();
        boolean retried = thrown != null && OutOfOrderSequenceException.class.getName().equals(thrown.getClassName())
                && thrown.getMessage() != null && thrown.getMessage().contains(FIRST_SEQUENCE_REFUSED);
        return retried ? FilterReply.DENY : FilterReply.NEUTRAL;
    }
}
