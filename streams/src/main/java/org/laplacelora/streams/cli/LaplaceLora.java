package org.laplacelora.streams.cli;

import java.io.IOException;
import java.io.PrintWriter;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one command-line app; {@code ./laplace-lora --help} lists its subcommands. */
@Command(name = "laplace-lora", subcommands = { GenerateCommand.class, DatasetsCommand.class, PretrainCommand.class, FinetuneCommand.class, FitPosteriorCommand.class, EvaluateCommand.class, ReportCommand.class, ScorerCommand.class, CalibratorCommand.class, RefitterCommand.class, RefitNowCommand.class, PosteriorCommand.class, ProduceCommand.class, DashboardCommand.class, DemoCommand.class, StackCommand.class, TopicsCommand.class, BenchCommand.class, CommandLine.HelpCommand.class })
public final class LaplaceLora extends CommandGroup {
    /** Avro (1.12) refuses to load generated classes from packages it is not told to trust. */
    static final String AVRO_TRUSTED = "org.apache.avro.SERIALIZABLE_PACKAGES";

    public static void main(String[] args) {
        // Before any Avro class loads: without it `java -jar` would dead-letter every record as undecodable.
        if (System.getProperty(AVRO_TRUSTED) == null) {
            System.setProperty(AVRO_TRUSTED, "org.laplacelora.schemas.avro,org.laplacelora.schemas.state");
        }
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: expected failures print one "error:" line, not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new LaplaceLora());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            // Kafka's own failures (a broker or registry out of reach, a timeout, a fenced producer) are expected too.
            if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof KafkaException) {
                err.println("error: " + e.getMessage());
                if (Boolean.getBoolean("laplace.lora.trace")) {
                    e.printStackTrace(err);
                }
                return 1;
            }
            throw e;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = LaplaceLora.class.getPackage().getImplementationVersion();
            return new String[] {"laplace-lora " + (v == null ? "(development build)" : v)};
        }
    }
}
