package org.laplacelora.streams.posteriors;

/** What a posterior watcher shows over JMX ({@code org.laplacelora:type=PosteriorWatcher,name=...}). */
public interface PosteriorWatcherMBean {
    /** The version its scorer serves (-1 without a scorer). */
    long getServingVersion();

    /** The highest version number seen on the topic. */
    long getNewestVersionSeen();

    /** Versions swapped in. */
    long getSwaps();

    /** Versions refused: corrupt, incomplete, or of another model or adapter. */
    long getRejections();
}
