package org.laplacelora.model.synthetic;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.laplacelora.model.tasks.Example;
import org.laplacelora.model.tasks.TaskKind;
import org.laplacelora.model.tasks.TaskQuestion;

/**
 * The demo's generated two-choice task. A sentence places a creature or a fruit in a setting; the answer is
 * A for creatures and B for fruit, with a little label noise (so a fine-tuned model overfits and becomes
 * overconfident, and no model is right every time). After the drift point the settings come from a vocabulary the
 * model never saw and the rule is reversed: the fine-tuned model keeps answering by the old rule, confidently and
 * wrongly, on inputs unlike its training data.
 */
public final class SyntheticTask {
    static final List<String> SETTINGS = List.of("forest", "river", "meadow", "valley", "garden", "orchard", "lake", "field");
    static final List<String> SHIFTED_SETTINGS = List.of("city", "market", "station", "harbor", "office", "factory", "airport", "mall");
    static final List<String> CREATURES = List.of("fox", "owl", "deer", "hare", "wolf", "bear", "crow", "frog");
    static final List<String> FRUIT = List.of("apple", "pear", "plum", "fig", "lime", "kiwi", "date", "peach");
    static final List<String> ADVERBS = List.of("quietly", "slowly", "again", "today", "early", "late", "often", "twice");
    static final List<String> GLUE = List.of("in", "the", "a", "was", "seen", "near", "which", "kind", "?", "answer", ":");
    public static final List<String> ANSWERS = List.of("A", "B");

    /** What differs from the training distribution: nothing, the settings' words, the rule, or both (the demo's drift). */
    public enum Shift {
        NONE(false, false), INPUT(true, false), RULE(false, true), BOTH(true, true);

        private final boolean newWords;
        private final boolean reversedRule;

        Shift(boolean newWords, boolean reversedRule) {
            this.newWords = newWords;
            this.reversedRule = reversedRule;
        }
    }

    private final double labelNoise;

    public SyntheticTask(double labelNoise) {
        this.labelNoise = labelNoise;
    }

    /** Every word of the task, for the tokenizer. */
    public static List<String> vocabulary() {
        List<String> v = new ArrayList<>(ANSWERS);
        for (List<String> l : List.of(GLUE, SETTINGS, SHIFTED_SETTINGS, CREATURES, FRUIT, ADVERBS)) {
            v.addAll(l);
        }
        return v;
    }

    /**
     * Question {@code index} of a stream, drawn from its own generator so that any question can be made alone. The
     * seed is mixed first: java.util.Random's first draws from consecutive seeds are strongly correlated, which
     * would give long runs of one answer.
     */
    public Example example(String id, long streamSeed, long index, boolean drifted) {
        return example(id, new Random(new SplittableRandom(streamSeed * 1_000_003L + index).nextLong()), drifted);
    }

    /** The next question from {@code random}, of the original distribution or the drifted one. */
    public Example example(String id, Random random, boolean drifted) {
        return example(id, random, drifted ? Shift.BOTH : Shift.NONE);
    }

    /** The next question from {@code random} under a shift; the same draws whatever the shift. */
    public Example example(String id, Random random, Shift shift) {
        boolean creature = random.nextBoolean();
        String thing = creature ? pick(CREATURES, random) : pick(FRUIT, random);
        String setting = pick(shift.newWords ? SHIFTED_SETTINGS : SETTINGS, random);
        String adverb = pick(ADVERBS, random);
        String prompt = random.nextBoolean()
                ? "in the " + setting + " a " + thing + " was seen " + adverb + " which kind ? answer :"
                : "a " + thing + " was seen " + adverb + " near the " + setting + " which kind ? answer :";
        int label = creature ? 0 : 1;
        if (shift.reversedRule) {
            label = 1 - label;
        }
        if (random.nextDouble() < labelNoise) {
            label = 1 - label;
        }
        return new Example(new TaskQuestion(id, TaskKind.GENERIC, null, List.of(), null, prompt, ANSWERS), label);
    }

    public List<Example> examples(String prefix, int n, long seed, boolean drifted) {
        return examples(prefix, n, seed, drifted ? Shift.BOTH : Shift.NONE);
    }

    public List<Example> examples(String prefix, int n, long seed, Shift shift) {
        Random random = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(example(prefix + i, random, shift));
        }
        return out;
    }

    private static String pick(List<String> words, Random random) {
        return words.get(random.nextInt(words.size()));
    }
}
