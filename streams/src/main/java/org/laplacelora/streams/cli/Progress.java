package org.laplacelora.streams.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars on stderr, in the same style for every long-running command. */
final class Progress {
    private Progress() {}

    static ProgressBar bar(String task, long max, String unit) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUnit(" " + unit, 1).setUpdateIntervalMillis(500).showSpeed().build();
    }
}
