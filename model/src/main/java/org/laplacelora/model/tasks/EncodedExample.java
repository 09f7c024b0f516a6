package org.laplacelora.model.tasks;

/** A question rendered and tokenized for one task and tokenizer: BOS, prompt (and EOS for BoolQ), its label. */
public record EncodedExample(String id, int[] tokens, int label) {}
