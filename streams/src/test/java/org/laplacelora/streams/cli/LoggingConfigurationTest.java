package org.laplacelora.streams.cli;

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

/** The product's logback.xml (not the tests' own): what the embedded broker's log lets through to the console. */
class LoggingConfigurationTest {
    @Test
    void theBrokersRetriedOutOfOrderSequenceIsDroppedAndItsOtherErrorsAreKept() throws Exception {
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LoggingConfigurationTest.class.getResource("/logback.xml"));
        Logger broker = context.getLogger("kafka.server.ReplicaManager");
        assertThat(broker.isAdditive()).isFalse();
        @SuppressWarnings("unchecked")
        UnsynchronizedAppenderBase<ILoggingEvent> console = (UnsynchronizedAppenderBase<ILoggingEvent>) broker.getAppender("BROKER_STDERR");

        assertThat(console.getFilterChainDecision(error(broker, new OutOfOrderSequenceException(
                "Invalid sequence number for producer 1 at offset 118 in partition p-0: 3 (incoming seq. number). Expected sequence 0 "
                        + "for transactions v2 idempotent producer with no existing state.")))).isEqualTo(FilterReply.DENY);
        assertThat(console.getFilterChainDecision(error(broker, new TimeoutException("append timed out")))).isEqualTo(FilterReply.NEUTRAL);
        assertThat(console.getFilterChainDecision(error(broker, null))).isEqualTo(FilterReply.NEUTRAL);
        assertThat(broker.getEffectiveLevel()).isEqualTo(Level.WARN);
        context.stop();
    }

    private static ILoggingEvent error(Logger logger, Throwable thrown) {
        return new LoggingEvent(Logger.class.getName(), logger, Level.ERROR, "Error processing append operation on partition p-0", thrown,
                null);
    }
}
