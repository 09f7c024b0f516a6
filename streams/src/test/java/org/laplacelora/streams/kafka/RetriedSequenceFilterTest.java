package org.laplacelora.streams.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.FilterReply;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** What the product's logback.xml (not the tests' own) lets through to the console from the embedded broker. */
class RetriedSequenceFilterTest {
    @Test
    void theBrokersRefusalOfALateFirstBatchIsDroppedAndItsRealSequenceGapsAndOtherErrorsAreKept() throws Exception {
        LoggerContext context = new LoggerContext();
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(RetriedSequenceFilterTest.class.getResource("/logback.xml"));
            Logger broker = context.getLogger("kafka.server.ReplicaManager");
            assertThat(broker.isAdditive()).isFalse();
            assertThat(broker.getEffectiveLevel()).isEqualTo(Level.WARN);
            @SuppressWarnings("unchecked")
            UnsynchronizedAppenderBase<ILoggingEvent> console = (UnsynchronizedAppenderBase<ILoggingEvent>) broker.getAppender("BROKER_STDERR");

            // The messages as Kafka 4.3's broker words them.
            assertThat(console.getFilterChainDecision(error(broker, new OutOfOrderSequenceException("Invalid sequence number for producer 1 at "
                    + "offset 118 in partition p-0: 3 (incoming seq. number). Expected sequence 0 for transactions v2 idempotent producer with "
                    + "no existing state.")))).isEqualTo(FilterReply.DENY);
            assertThat(console.getFilterChainDecision(error(broker, new OutOfOrderSequenceException("Out of order sequence number for producer 1 "
                    + "at offset 548171 in partition p-0: 51 (incoming seq. number), 49 (current end sequence number)"))))
                    .isEqualTo(FilterReply.NEUTRAL);
            assertThat(console.getFilterChainDecision(error(broker, new TimeoutException("append timed out")))).isEqualTo(FilterReply.NEUTRAL);
            assertThat(console.getFilterChainDecision(error(broker, null))).isEqualTo(FilterReply.NEUTRAL);
        } finally {
            context.stop();
        }
    }

    private static ILoggingEvent error(Logger logger, Throwable thrown) {
        return new LoggingEvent(Logger.class.getName(), logger, Level.ERROR, "Error processing append operation on partition p-0", thrown,
                null);
    }
}
