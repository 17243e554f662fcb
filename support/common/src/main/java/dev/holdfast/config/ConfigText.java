package dev.holdfast.config;

/** Pieces of config problem messages, worded the same way in every module. */
public final class ConfigText {

    private ConfigText() {}

    /** Quotes a value for a message; control characters are escaped so they cannot hide or garble a line. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /**
     * Null when {@code host} can name an address to listen on, as far as its text goes (a name is looked up only when
     * the listener binds); otherwise "field: "host" must be an IP address or host name without spaces ...".
     */
    public static String listenHostProblem(String field, String host) {
        if (host != null && !host.isBlank() && host.chars().noneMatch(Character::isWhitespace)) {
            return null;
        }
        return field + ": " + quote(String.valueOf(host))
                + " must be an IP address or host name without spaces (0.0.0.0 = all interfaces)";
    }

    /** "field: "value" is not one of a, b, c". */
    public static String notOneOf(String field, String value, String allowed) {
        return field + ": " + quote(value) + " is not one of " + allowed;
    }
}
