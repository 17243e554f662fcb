package dev.holdfast.intake.auth;

import dev.holdfast.config.ConfigText;

/** Client input in a message: quoted, control characters escaped, and cut short, so a client cannot make it long. */
public final class Quote {
    static final int MAX_CHARS = 64;

    private Quote() {
    }

    public static String prefix(String s) {
        return s.length() <= MAX_CHARS ? ConfigText.quote(s)
                : ConfigText.quote(s.substring(0, MAX_CHARS)) + "… (" + s.length() + " chars)";
    }
}
