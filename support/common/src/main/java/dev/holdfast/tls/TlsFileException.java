package dev.holdfast.tls;

import java.nio.file.Path;

/** A certificate, key or CA file that cannot be used; the message is one line naming the file and why. */
public final class TlsFileException extends RuntimeException {
    private final transient Path file;

    public TlsFileException(Path file, String reason) {
        super(file + ": " + reason);
        this.file = file;
    }

    public TlsFileException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The message without the file name. */
    public String reason() {
        return getMessage().substring(String.valueOf(file).length() + 2);
    }
}
