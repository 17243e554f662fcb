package dev.holdfast.forwarder;

import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Sorts a failed send into the errors that will recur however often the record is sent again (permanent: the record
 * is dead-lettered and forwarding moves on) and those that pass (transient: the record is sent again later, and the
 * circuit breaker counts them). Anything not known to be permanent is transient: dead-lettering a record Kafka would
 * have taken a minute later is worse than retrying one it never will. In particular a failed authentication (wrong
 * password, refused certificate, failed TLS handshake) is transient for the record: the records wait in the WAL until
 * the operator fixes the configuration, and nothing is dead-lettered.
 */
public final class SendErrors {
    /** Why a record was dead-lettered; the metric's {@code reason} tag. */
    public enum Permanent {
        RECORD_TOO_LARGE("record_too_large"),
        INVALID_RECORD("invalid_record"),
        SERIALIZATION("serialization"),
        TOPIC_AUTHORIZATION("topic_authorization"),
        UNKNOWN_TOPIC("unknown_topic");

        public final String tag;

        Permanent(String tag) {
            this.tag = tag;
        }
    }

    private SendErrors() {
    }

    /**
     * @param topicUnavailable the forwarder could not create the topic and the broker does not auto-create it, so a
     *                         topic missing from metadata will stay missing
     * @return the permanent reason, or null when the error is transient
     */
    public static Permanent permanent(Throwable error, boolean topicUnavailable) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException) {
                return Permanent.RECORD_TOO_LARGE;
            }
            if (t instanceof InvalidRecordException || t instanceof InvalidTimestampException) {
                return Permanent.INVALID_RECORD;
            }
            if (t instanceof SerializationException) {
                return Permanent.SERIALIZATION;
            }
            if (t instanceof TopicAuthorizationException) {
                return Permanent.TOPIC_AUTHORIZATION;
            }
            if (t instanceof InvalidTopicException) {
                return Permanent.UNKNOWN_TOPIC;
            }
            if (topicUnavailable && (t instanceof UnknownTopicOrPartitionException
                    || t instanceof TimeoutException && String.valueOf(t.getMessage()).contains("not present in metadata"))) {
                return Permanent.UNKNOWN_TOPIC;
            }
        }
        return null;
    }

    /** The authentication failure (SASL or TLS) in {@code error}'s causes, or null. */
    public static AuthenticationException authentication(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthenticationException a) {
                return a;
            }
        }
        return null;
    }

    /**
     * The failure's class and message, and the deepest cause's when it says more: Kafka's "SSL handshake failed" hides
     * why (a certificate from another CA, a missing client certificate) in its cause.
     */
    public static String describe(AuthenticationException auth) {
        Throwable root = auth;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = auth.getClass().getSimpleName() + ": " + auth.getMessage();
        return root == auth || root.getMessage() == null || String.valueOf(auth.getMessage()).contains(root.getMessage())
                ? text : text + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
}
