package dev.holdfast.wal;

/** Observes each group commit; the intake turns these into metrics. Called on the writer thread: keep it cheap. */
public interface CommitListener {
    CommitListener NONE = (batches, events, bytes, syncNanos) -> { };

    /**
     * @param batches   batches appended in this group (duplicates and rejections excluded)
     * @param events    events in those batches
     * @param bytes     record bytes appended
     * @param syncNanos time spent in msync, 0 at written durability
     */
    void committed(int batches, long events, long bytes, long syncNanos);
}
