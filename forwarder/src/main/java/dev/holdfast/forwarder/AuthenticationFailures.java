package dev.holdfast.forwarder;

import dev.holdfast.forwarder.kafka.KafkaClientSecurity;
import org.apache.kafka.common.errors.AuthenticationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Says "Kafka authentication failed" once, in one line naming the bootstrap and the mechanism and user, instead of a
 * warning per record and attempt: a wrong password or a refused certificate is the operator's to fix (then restart),
 * and meanwhile the records wait in the WAL; nothing is dead-lettered ({@link SendErrors} keeps these transient).
 * Said again after a success, when it fails anew.
 */
final class AuthenticationFailures {
    private static final Logger log = LoggerFactory.getLogger(AuthenticationFailures.class);

    private final String bootstrap;
    private final KafkaClientSecurity security;
    private final AtomicBoolean reported = new AtomicBoolean();

    AuthenticationFailures(String bootstrap, KafkaClientSecurity security) {
        this.bootstrap = bootstrap;
        this.security = security;
    }

    /** True when {@code error} is an authentication failure (logged if it is the first since the last success). */
    boolean report(Throwable error) {
        AuthenticationException auth = SendErrors.authentication(error);
        if (auth == null) {
            return false;
        }
        if (reported.compareAndSet(false, true)) {
            // the exception's message, never the client properties: it names the mechanism, not the password
            log.error("Kafka authentication failed at {} ({}): {}; records wait in the WAL, nothing is"
                    + " dead-lettered; fix forwarder.security and restart", bootstrap, security.who(),
                    SendErrors.describe(auth));
        }
        return true;
    }

    void succeeded() {
        reported.set(false);
    }
}
