package org.laplacelora.model.metrics;

import java.util.Arrays;

/**
 * Area under the ROC curve of a score that should be higher on positives than on negatives: the probability that a
 * random positive scores above a random negative, ties counting a half (the Mann–Whitney U statistic over n⁺n⁻).
 * 0.5 is a score that cannot tell them apart. Used for out-of-distribution detection: shifted inputs are positives.
 */
public final class Auroc {
    private Auroc() {}

    public static double of(double[] negatives, double[] positives) {
        if (negatives.length == 0 || positives.length == 0) {
            throw new IllegalArgumentException("AUROC needs both positives and negatives, got " + positives.length + " and "
                    + negatives.length);
        }
        int n = negatives.length + positives.length;
        double[][] all = new double[n][];
        for (int i = 0; i < negatives.length; i++) {
            all[i] = new double[] {negatives[i], 0};
        }
        for (int i = 0; i < positives.length; i++) {
            all[negatives.length + i] = new double[] {positives[i], 1};
        }
        for (double[] x : all) {
            if (Double.isNaN(x[0])) {
                throw new IllegalArgumentException("AUROC of a NaN score");
            }
        }
        Arrays.sort(all, (a, b) -> Double.compare(a[0], b[0]));
        // Sum of the positives' ranks, tied scores sharing the mean of their ranks.
        double rankSum = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j < n && all[j][0] == all[i][0]) {
                j++;
            }
            double meanRank = (i + 1 + j) / 2.0;
            for (int k = i; k < j; k++) {
                rankSum += all[k][1] * meanRank;
            }
            i = j;
        }
        double np = positives.length;
        return (rankSum - np * (np + 1) / 2) / (np * negatives.length);
    }
}
