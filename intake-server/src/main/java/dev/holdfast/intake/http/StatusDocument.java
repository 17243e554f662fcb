package dev.holdfast.intake.http;

/**
 * What {@code GET /api/status} answers, as a document Jackson serialises (the intake's {@code StatusReport}). The
 * HTTP side knows nothing of its contents; it only routes, checks access and writes JSON.
 */
@FunctionalInterface
public interface StatusDocument {
    /**
     * @param sinceMillis the newest history sample the caller already has (epoch ms); 0 for the whole history
     */
    Object report(long sinceMillis);
}
