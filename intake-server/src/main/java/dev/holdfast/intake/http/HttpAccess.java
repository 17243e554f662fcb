package dev.holdfast.intake.http;

import dev.holdfast.intake.auth.Tokens;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may read /metrics, /readyz and /api/status: a client on loopback always (the operator's own machine never needs
 * a credential), any other only with the bearer token whose hash is auth.httpToken, when one is set. /healthz says
 * nothing but "alive" and stays open, so probes need no secret; so does the status page at / itself, which holds no
 * figure (it asks /api/status for them, with the token the operator types into it).
 */
public final class HttpAccess {
    public static final HttpAccess OPEN = new HttpAccess("");

    /** "sha256:&lt;hex&gt;", as in the token file; empty = no token asked for */
    private final byte[] tokenHash;

    public HttpAccess(String tokenHash) {
        this.tokenHash = tokenHash.isEmpty() ? null : tokenHash.toLowerCase().getBytes(StandardCharsets.US_ASCII);
    }

    boolean allowed(String path, SocketAddress remote, String authorization) {
        if (tokenHash == null || path.equals("/healthz") || path.equals("/") || isLoopback(remote)) {
            return true;
        }
        if (authorization == null || authorization.length() < 8
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] presented = Tokens.hash(authorization.substring(7).strip()).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(presented, tokenHash); // constant time
    }

    private static boolean isLoopback(SocketAddress remote) {
        return remote instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress();
    }
}
