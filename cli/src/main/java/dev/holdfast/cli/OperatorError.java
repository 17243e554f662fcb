package dev.holdfast.cli;

/**
 * A failure the operator can act on, that no library exception describes well enough by itself: a command throws
 * it with the one line to print (what and why) and the exit code. {@link ErrorReporter} prints the line without a
 * stack trace (unless --debug).
 */
final class OperatorError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    OperatorError(int exitCode, String oneLine, Throwable cause) {
        super(oneLine, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
