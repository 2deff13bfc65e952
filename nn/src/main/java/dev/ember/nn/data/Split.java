package dev.ember.nn.data;

/** Which part of a data set: the training examples or the held-out test examples. */
public enum Split {
    TRAIN, TEST
}
