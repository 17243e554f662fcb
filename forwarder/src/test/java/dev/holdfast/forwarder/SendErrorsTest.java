package dev.holdfast.forwarder;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Authentication failures are the operator's to fix: the records wait, none is dead-lettered. */
class SendErrorsTest {
    @Test
    void authenticationFailuresAreNeverPermanent() {
        for (Throwable e : new Throwable[]{new SaslAuthenticationException("invalid credentials"),
                new SslAuthenticationException("handshake failed"), new AuthenticationException("no"),
                new KafkaException("wrapped", new SaslAuthenticationException("invalid credentials"))}) {
            assertNull(SendErrors.permanent(e, false), e.toString());
            assertNull(SendErrors.permanent(e, true), e.toString());
            assertNotNull(SendErrors.authentication(e), e.toString());
        }
        assertNull(SendErrors.authentication(new KafkaException("other")));
        assertEquals("SslAuthenticationException: SSL handshake failed (SSLHandshakeException: PKIX path building"
                        + " failed)", SendErrors.describe(new SslAuthenticationException("SSL handshake failed",
                new javax.net.ssl.SSLHandshakeException("PKIX path building failed"))));
    }
}
