package dev.holdfast.intake.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The status page served at {@code /}: one HTML document with its CSS and JavaScript inline (status.html beside
 * this class), so it works offline, behind any proxy, and with nothing to install or fetch. It draws what it reads
 * from {@code /api/status} every second.
 */
final class StatusPage {
    /**
     * Only this port's own answers and the page's inline code and styles: a change that pulled in a CDN script, a web
     * font or a remote image would be blocked by the browser, not silently depend on the network.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'unsafe-inline'; "
            + "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

    private static final byte[] HTML = load();

    private StatusPage() {
    }

    /** The page's bytes (UTF-8); the caller must not modify them. */
    static byte[] html() {
        return HTML;
    }

    private static byte[] load() {
        try (InputStream in = StatusPage.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html is missing from the intake's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read status.html from the intake's jar", e);
        }
    }
}
