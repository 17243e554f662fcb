package dev.holdfast.shipper.config;

import static dev.holdfast.config.ConfigText.quote;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One intake address: a DNS name (re-resolved every {@code intake.dnsRefresh}, so it may stand for several
 * intakes), an IPv4 address, or an IPv6 address in brackets, and a port.
 */
public record IntakeEndpoint(String host, int port) {

    static final String SYNTAX = "HOST:PORT, e.g. \"intake.example.com:4317\", \"10.0.0.5:4317\" or \"[fd00::5]:4317\"";

    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[^:\\[\\]]+):(\\d{1,9})");
    // RFC 1123 labels; an IPv4 address is a name of digit labels and passes too.
    private static final Pattern DNS_NAME =
            Pattern.compile("(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");

    public IntakeEndpoint {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535");
        }
    }

    /** Parses HOST:PORT; the exception's message says what is wrong, without naming the field. */
    public static IntakeEndpoint parse(String text) {
        Matcher m = HOST_PORT.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(quote(text) + " is not " + SYNTAX);
        }
        String host = m.group(1);
        if (!host.startsWith("[") && !DNS_NAME.matcher(host).matches()) {
            throw new IllegalArgumentException(quote(host) + " in " + quote(text) + " is not a DNS name or IP address");
        }
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " in " + quote(text) + " is outside 1..65535");
        }
        return new IntakeEndpoint(host, port);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
