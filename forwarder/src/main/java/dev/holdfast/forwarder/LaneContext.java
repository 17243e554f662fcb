package dev.holdfast.forwarder;

import dev.holdfast.forwarder.deadletter.DeadLetters;
import dev.holdfast.wal.Wal;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

import java.time.Clock;
import java.util.function.BooleanSupplier;

/**
 * What both lanes use and the forwarder owns.
 *
 * @param topicsChecked    false until the forwarder has created its topics (or found it cannot): nothing is sent
 *                         before, so the broker never auto-creates them with its own settings
 * @param topicUnavailable true while the topic could not be created and the broker will not create it, so "not in
 *                         metadata" is a permanent error
 * @param authenticationFailures says once that Kafka refused the credentials, rather than once per record
 * @param clock            wall time, against which records' receive times give their age (lag, latency)
 */
record LaneContext(Wal wal, Progress progress, RecordMapper mapper, CircuitBreaker breaker, DeadLetters deadLetters,
                   BooleanSupplier topicsChecked, BooleanSupplier topicUnavailable, ForwarderMetrics metrics,
                   AuthenticationFailures authenticationFailures, Clock clock) {
}
