package dev.holdfast.intake.auth;

import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.intake.config.IntakeConfig.Auth.Require;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;

/**
 * Turns what a call presents (its TLS session's verified client certificate, its {@code authorization: Bearer}
 * metadata) into a {@link Caller}, or refuses it. A bearer token, when presented, is the caller's identity and must be
 * known, whatever {@code require} says (a wrong token is a mistake to report, not to ignore); otherwise the client
 * certificate; otherwise, where nothing is required, {@link Caller#ANONYMOUS}. Under {@code require: certificate}
 * only the certificate counts.
 */
public final class Authenticator {
    private final Require require;
    private final Supplier<Tokens> tokens;
    private final AgentRules rules;

    /** Refused: no credential where one is required, or one that names nobody. */
    public static final class UnauthenticatedException extends Exception {
        private final boolean presented;

        UnauthenticatedException(String message, boolean presented) {
            super(message, null, false, false);
            this.presented = presented;
        }

        /**
         * Whether a credential of a kind that counts here was presented and refused (an unknown bearer token, an
         * authorization that is not a bearer token), rather than none at all: HTTP's 403, where the other is 401.
         */
        public boolean presented() {
            return presented;
        }
    }

    public Authenticator(IntakeConfig.Auth auth, Supplier<Tokens> tokens) {
        this.require = auth.require();
        this.tokens = tokens;
        this.rules = new AgentRules(auth.agents());
    }

    /**
     * @param tls           the call's TLS session, null in plaintext
     * @param authorization the {@code authorization} metadata, null when absent
     */
    public Caller authenticate(SSLSession tls, String authorization) throws UnauthenticatedException {
        if (authorization != null && require != Require.CERTIFICATE) {
            return byToken(authorization);
        }
        List<String> names = tls == null ? List.of() : certificateNames(tls);
        if (!names.isEmpty()) {
            return rules.caller(names, "certificate", List.of());
        }
        return switch (require) {
            case NONE -> Caller.ANONYMOUS;
            case CERTIFICATE -> throw new UnauthenticatedException(tls == null
                    ? "a client certificate is required (auth.require: certificate) and this connection is not TLS"
                    : "a client certificate naming the agent (CN or DNS/URI SAN) is required"
                            + " (auth.require: certificate)", false);
            case TOKEN -> throw new UnauthenticatedException(
                    "a bearer token is required (auth.require: token): send metadata 'authorization: Bearer <token>'",
                    false);
            case ANY -> throw new UnauthenticatedException("credentials are required (auth.require: any): a client "
                    + "certificate or metadata 'authorization: Bearer <token>'", false);
        };
    }

    private Caller byToken(String authorization) throws UnauthenticatedException {
        // "Bearer" is case-insensitive (RFC 6750 / 7235); the token is never quoted back
        if (authorization.length() < 8 || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                || authorization.substring(7).isBlank()) {
            throw new UnauthenticatedException("authorization metadata is not 'Bearer <token>'", true);
        }
        Tokens.Entry entry = tokens.get().find(authorization.substring(7).strip());
        if (entry == null) {
            throw new UnauthenticatedException("unknown bearer token (not in auth.tokens)", true);
        }
        return rules.caller(List.of(entry.identity()), "token", entry.globs());
    }

    private static List<String> certificateNames(SSLSession tls) {
        Certificate[] chain;
        try {
            chain = tls.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return List.of(); // no client certificate (or an unverified one): it names nobody
        }
        return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? CertificateNames.of(leaf) : List.of();
    }
}
