package org.laplacelora.streams.cli;

import picocli.CommandLine.Option;

/** --batch-size: examples per forward pass. */
final class BatchSizeOption {
    @Option(names = "--batch-size", paramLabel = "B") int batchSize;

    BatchSizeOption(int defaultBatchSize) {
        this.batchSize = defaultBatchSize;
    }
}
