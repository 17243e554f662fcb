package dev.holdfast.forwarder.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the forwarder's topics with the Kafka Admin API instead of relying on the broker's auto-creation, and
 * checks topics that already exist against what is configured.
 *
 * <p>{@link #ensure} describes the cluster, then for each {@link TopicSpec}: a missing topic is created with the
 * spec's partitions, replication factor, {@code min.insync.replicas} and (if set) {@code max.message.bytes}; a topic
 * that exists (also one another intake created in the meantime) is described and used as it is, never altered, and
 * each way it differs from the spec is reported. Every topic's outcome is one of:
 * <ul>
 *   <li>{@link Ready}: usable, with its effective {@code max.message.bytes} and the differences;</li>
 *   <li>{@link Unavailable}: Kafka did not answer (unreachable, timed out, not ready): retry later with backoff;</li>
 *   <li>{@link Refused}: Kafka refused in a way retrying does not fix (authorisation, an invalid setting such as a
 *       replication factor larger than the cluster): the message is one line naming the topic and the setting.</li>
 * </ul>
 *
 * <p>Logging: one INFO line per created topic, one line per existing topic (WARN naming the differences if there
 * are any, else INFO). Failures are returned, not logged, so that a caller retrying with backoff decides how loudly
 * to say them.
 *
 * <p>The Admin is the caller's: it is neither configured nor closed here.
 */
public final class TopicManager {
    private static final Logger log = LoggerFactory.getLogger(TopicManager.class);
    /** How long after an Admin call's own timeout we still wait for its future, to get Kafka's error, not ours. */
    private static final long GRACE_MS = 1_000;
    private static final long RETRY_PAUSE_MS = 100;

    /** What became of one topic. */
    public sealed interface Outcome permits Ready, Unavailable, Refused {
        String topic();
    }

    /**
     * The topic exists and is used as it is.
     *
     * @param created           true if this call created it, false if it existed (or another client created it first)
     * @param partitions        its partition count
     * @param replicationFactor replicas of its partition 0
     * @param minInsyncReplicas its effective {@code min.insync.replicas} (topic setting or broker default)
     * @param maxMessageBytes   its effective {@code max.message.bytes} (topic setting or broker default): the largest
     *                          record batch the broker accepts for it
     * @param differences       each way an existing topic differs from its spec, e.g.
     *                          {@code topic holdfast.events: partitions 1, configured 3}; empty for a created topic
     */
    public record Ready(String topic, boolean created, int partitions, int replicationFactor, int minInsyncReplicas,
                        int maxMessageBytes, List<String> differences) implements Outcome {
        public Ready {
            differences = List.copyOf(differences);
        }
    }

    /** Kafka did not answer in time (unreachable, timed out, no controller yet): retriable, retry with backoff. */
    public record Unavailable(String topic, String message, Throwable cause) implements Outcome {
    }

    /** Kafka refused; retrying will not help until the configuration or the cluster's permissions change. */
    public record Refused(String topic, String message, Throwable cause) implements Outcome {
    }

    /** The outcome of every spec, in the order given. */
    public record Result(List<Outcome> outcomes) {
        public Result {
            outcomes = List.copyOf(outcomes);
        }

        /** Every topic is ready. */
        public boolean allReady() {
            return outcomes.stream().allMatch(o -> o instanceof Ready);
        }

        /** Some topic is {@link Unavailable}: call {@link #ensure} again later. */
        public boolean retriable() {
            return outcomes.stream().anyMatch(o -> o instanceof Unavailable);
        }

        public Optional<Outcome> outcome(String topic) {
            return outcomes.stream().filter(o -> o.topic().equals(topic)).findFirst();
        }

        public Optional<Ready> ready(String topic) {
            return outcome(topic).filter(Ready.class::isInstance).map(Ready.class::cast);
        }

        /** The topic's effective {@code max.message.bytes}, if it is ready. */
        public OptionalInt maxMessageBytes(String topic) {
            return ready(topic).map(r -> OptionalInt.of(r.maxMessageBytes())).orElse(OptionalInt.empty());
        }

        public List<Unavailable> unavailable() {
            return outcomes.stream().filter(Unavailable.class::isInstance).map(Unavailable.class::cast).toList();
        }

        public List<Refused> refused() {
            return outcomes.stream().filter(Refused.class::isInstance).map(Refused.class::cast).toList();
        }
    }

    private final Admin admin;

    /** @param admin the caller's Admin client; this class never closes it */
    public TopicManager(Admin admin) {
        this.admin = admin;
    }

    /**
     * Creates each missing topic and describes each existing one; see the class comment. Returns within about
     * {@code timeout} (every Admin call gets what is left of it); what did not finish by then is {@link Unavailable}.
     *
     * @throws IllegalArgumentException if two specs name the same topic
     * @throws InterruptedException     if the calling thread is interrupted while waiting for Kafka
     */
    public Result ensure(List<TopicSpec> specs, Duration timeout) throws InterruptedException {
        Map<String, TopicSpec> byName = new LinkedHashMap<>();
        for (TopicSpec s : specs) {
            if (byName.put(s.name(), s) != null) {
                throw new IllegalArgumentException("topic " + s.name() + " is specified twice");
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Outcome> outcomes = new LinkedHashMap<>();

        // 1. the cluster: how many brokers (for the default replication factor), and whether Kafka answers at all
        int brokers;
        try {
            brokers = await(admin.describeCluster(new DescribeClusterOptions().timeoutMs(callTimeout(deadline)))
                    .nodes(), deadline).size();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            for (String name : byName.keySet()) {
                outcomes.put(name, failure(name, "describe the cluster", cause(e), 0));
            }
            return result(byName, outcomes);
        }

        // 2. which topics exist
        Map<String, TopicDescription> existing = new LinkedHashMap<>();
        List<TopicSpec> missing = new ArrayList<>();
        describeTopics(byName.keySet(), deadline, false, existing, outcomes, brokers);
        for (TopicSpec s : byName.values()) {
            if (!existing.containsKey(s.name()) && !outcomes.containsKey(s.name())) {
                missing.add(s);
            }
        }

        // 3. create the missing ones
        Map<String, Config> createdConfigs = new LinkedHashMap<>();
        Map<String, int[]> createdShape = new LinkedHashMap<>(); // partitions, replication factor
        Set<String> raced = new HashSet<>();
        if (!missing.isEmpty()) {
            create(missing, brokers, deadline, createdConfigs, createdShape, raced, outcomes);
        }
        if (!raced.isEmpty()) { // created by someone else between our describe and our create
            describeTopics(raced, deadline, true, existing, outcomes, brokers);
        }

        // 4. the effective configs of the existing topics (and of created ones the create response had none for)
        Set<String> toDescribe = new HashSet<>(existing.keySet());
        for (String name : createdShape.keySet()) {
            if (!createdConfigs.containsKey(name)) {
                toDescribe.add(name);
            }
        }
        Map<String, Config> configs = new LinkedHashMap<>(createdConfigs);
        describeConfigs(toDescribe, deadline, configs, outcomes, brokers);

        // 5. the outcomes
        for (TopicSpec s : byName.values()) {
            if (outcomes.containsKey(s.name())) {
                continue;
            }
            Config config = configs.get(s.name());
            int[] shape = createdShape.get(s.name());
            Outcome o;
            if (shape != null) {
                o = new Ready(s.name(), true, shape[0], shape[1], intConfig(config, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG),
                        intConfig(config, TopicConfig.MAX_MESSAGE_BYTES_CONFIG), List.of());
                log.info("created topic {}: {} partitions, replication factor {}, min.insync.replicas {}, "
                                + "max.message.bytes {}{}", s.name(), shape[0], shape[1],
                        ((Ready) o).minInsyncReplicas(), ((Ready) o).maxMessageBytes(),
                        s.maxMessageBytes() == TopicSpec.DEFAULT ? " (broker default)" : "");
            } else {
                o = existingTopic(s, existing.get(s.name()), config, brokers);
            }
            outcomes.put(s.name(), o);
        }
        return result(byName, outcomes);
    }

    private static Result result(Map<String, TopicSpec> byName, Map<String, Outcome> outcomes) {
        List<Outcome> ordered = new ArrayList<>(byName.size());
        for (String name : byName.keySet()) {
            ordered.add(outcomes.get(name));
        }
        return new Result(ordered);
    }

    /**
     * Describes {@code names} into {@code existing}; a missing topic is left out (or, with {@code mustExist}, retried
     * until the deadline: a topic another client just created may not have reached the broker we ask yet).
     */
    /**
     * Waits until every partition of the topic is served by its leader: true when a ListOffsets request, which only a
     * partition's current leader answers, succeeds for all of them. The controller reports a topic created before
     * its leaders have taken the partitions on, and an idempotent producer that sends into that window gets
     * NOT_LEADER_OR_FOLLOWER and then OUT_OF_ORDER_SEQUENCE_NUMBER for every later batch until its delivery timeout.
     */
    public boolean awaitServing(String topic, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                        .get(remainingMs(deadline), TimeUnit.MILLISECONDS).get(topic);
                Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
                        new LinkedHashMap<>();
                boolean leaders = true;
                for (TopicPartitionInfo p : d.partitions()) {
                    leaders &= p.leader() != null && !p.leader().isEmpty();
                    latest.put(new org.apache.kafka.common.TopicPartition(topic, p.partition()),
                            org.apache.kafka.clients.admin.OffsetSpec.latest());
                }
                if (leaders) {
                    admin.listOffsets(latest).all().get(remainingMs(deadline), TimeUnit.MILLISECONDS);
                    return true;
                }
            } catch (ExecutionException | TimeoutException e) {
                // not yet: no leader, or the leader does not serve the partition yet
            }
            Thread.sleep(RETRY_PAUSE_MS);
        }
        return false;
    }

    private void describeTopics(Set<String> names, long deadline, boolean mustExist, Map<String, TopicDescription> existing,
                                Map<String, Outcome> outcomes, int brokers) throws InterruptedException {
        Set<String> pending = new HashSet<>(names);
        while (true) {
            Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(pending,
                    new DescribeTopicsOptions().timeoutMs(callTimeout(deadline))).topicNameValues();
            Set<String> again = new HashSet<>();
            for (String name : pending) {
                try {
                    existing.put(name, await(futures.get(name), deadline));
                } catch (ExecutionException | TimeoutException | RuntimeException e) {
                    Throwable c = cause(e);
                    if (c instanceof UnknownTopicOrPartitionException) {
                        if (mustExist) {
                            again.add(name);
                        }
                    } else {
                        outcomes.put(name, failure(name, "describe it", c, brokers));
                    }
                }
            }
            if (again.isEmpty()) {
                return;
            }
            if (remainingMs(deadline) <= RETRY_PAUSE_MS) {
                for (String name : again) {
                    outcomes.put(name, new Unavailable(name, "topic " + name + ": another client created it, but it "
                            + "could not be described yet", null));
                }
                return;
            }
            Thread.sleep(RETRY_PAUSE_MS);
            pending = again;
        }
    }

    private void create(List<TopicSpec> missing, int brokers, long deadline, Map<String, Config> createdConfigs,
                        Map<String, int[]> createdShape, Set<String> raced, Map<String, Outcome> outcomes)
            throws InterruptedException {
        List<NewTopic> newTopics = new ArrayList<>();
        for (TopicSpec s : missing) {
            int rf = s.effectiveReplicationFactor(brokers);
            int minIsr = s.effectiveMinInsyncReplicas(rf);
            if (minIsr > rf) {
                outcomes.put(s.name(), new Refused(s.name(), "topic " + s.name() + ": min.insync.replicas " + minIsr
                        + " is larger than its replication factor " + rf + ": every acks=all write would be refused",
                        null));
                continue;
            }
            Map<String, String> configs = new LinkedHashMap<>();
            configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minIsr));
            if (s.maxMessageBytes() != TopicSpec.DEFAULT) {
                configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(s.maxMessageBytes()));
            }
            newTopics.add(new NewTopic(s.name(), s.partitions(), (short) rf).configs(configs));
        }
        if (newTopics.isEmpty()) {
            return;
        }
        CreateTopicsResult created = admin.createTopics(newTopics,
                new CreateTopicsOptions().timeoutMs(callTimeout(deadline)));
        for (NewTopic t : newTopics) {
            String name = t.name();
            try {
                await(created.values().get(name), deadline);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                Throwable c = cause(e);
                if (c instanceof TopicExistsException) {
                    raced.add(name);
                } else if (c instanceof InvalidReplicationFactorException) {
                    outcomes.put(name, new Refused(name, "topic " + name + ": replication factor " + t.replicationFactor()
                            + " cannot be met: the cluster has " + brokers + " broker" + (brokers == 1 ? "" : "s")
                            + " available (" + c.getMessage() + ")", c));
                } else {
                    outcomes.put(name, failure(name, "create it (" + describe(t) + ")", c, brokers));
                }
                continue;
            }
            int partitions = t.numPartitions();
            int rf = t.replicationFactor();
            try {
                partitions = await(created.numPartitions(name), deadline);
                rf = await(created.replicationFactor(name), deadline);
                createdConfigs.put(name, await(created.config(name), deadline));
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // an older broker, or no DESCRIBE_CONFIGS right: describeConfigs will say
            }
            createdShape.put(name, new int[]{partitions, rf});
        }
    }

    private void describeConfigs(Set<String> names, long deadline, Map<String, Config> configs,
                                 Map<String, Outcome> outcomes, int brokers) throws InterruptedException {
        if (names.isEmpty()) {
            return;
        }
        List<ConfigResource> resources = names.stream()
                .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
        Map<ConfigResource, KafkaFuture<Config>> futures = admin.describeConfigs(resources,
                new DescribeConfigsOptions().timeoutMs(callTimeout(deadline))).values();
        for (ConfigResource r : resources) {
            try {
                configs.put(r.name(), await(futures.get(r), deadline));
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                outcomes.put(r.name(), failure(r.name(), "describe its configuration", cause(e), brokers));
            }
        }
    }

    /** An existing topic against its spec: used as it is, the differences named. */
    private static Ready existingTopic(TopicSpec s, TopicDescription d, Config config, int brokers) {
        String name = s.name();
        int partitions = d.partitions().size();
        int rf = d.partitions().stream().min(Comparator.comparingInt(TopicPartitionInfo::partition))
                .map(p -> p.replicas().size()).orElse(0);
        int minIsr = intConfig(config, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG);
        int maxBytes = intConfig(config, TopicConfig.MAX_MESSAGE_BYTES_CONFIG);

        List<String> found = new ArrayList<>();
        if (partitions != s.partitions()) {
            found.add("partitions " + partitions + ", configured " + s.partitions());
        }
        // A default (0) in the spec is only held against a topic that is less durable than the default would be.
        if (s.replicationFactor() != TopicSpec.DEFAULT) {
            if (rf != s.replicationFactor()) {
                found.add("replication factor " + rf + ", configured " + s.replicationFactor());
            }
        } else if (rf < s.effectiveReplicationFactor(brokers)) {
            found.add("replication factor " + rf + ", default " + s.effectiveReplicationFactor(brokers) + " for "
                    + brokers + " brokers");
        }
        if (s.minInsyncReplicas() != TopicSpec.DEFAULT) {
            if (minIsr != s.minInsyncReplicas()) {
                found.add("min.insync.replicas " + minIsr + ", configured " + s.minInsyncReplicas());
            }
        } else if (minIsr < TopicSpec.defaultMinInsyncReplicas(rf)) {
            found.add("min.insync.replicas " + minIsr + ", default " + TopicSpec.defaultMinInsyncReplicas(rf)
                    + " for replication factor " + rf);
        }
        if (s.maxMessageBytes() != TopicSpec.DEFAULT && maxBytes != s.maxMessageBytes()) {
            found.add("max.message.bytes " + maxBytes + ", configured " + s.maxMessageBytes());
        }

        if (found.isEmpty()) {
            log.info("topic {} exists: {} partitions, replication factor {}, min.insync.replicas {}, "
                    + "max.message.bytes {}", name, partitions, rf, minIsr, maxBytes);
        } else {
            log.warn("topic {} exists with other settings than configured and is used as it is: {}", name,
                    String.join("; ", found));
        }
        List<String> differences = found.stream().map(f -> "topic " + name + ": " + f).toList();
        return new Ready(name, false, partitions, rf, minIsr, maxBytes, differences);
    }

    /** A failed Admin call for one topic: retriable or not, as one line naming the topic. */
    static Outcome failure(String topic, String action, Throwable c, int brokers) {
        String prefix = "topic " + topic + ": ";
        if (c instanceof TimeoutException || c instanceof RetriableException) {
            return new Unavailable(topic, prefix + "Kafka did not answer, could not " + action + ": "
                    + c.getClass().getSimpleName() + ": " + c.getMessage(), c);
        }
        if (c instanceof AuthorizationException) {
            return new Refused(topic, prefix + "not authorized to " + action + ": " + c.getMessage(), c);
        }
        if (c instanceof AuthenticationException) {
            // wrong credentials or a refused certificate: fixed by the operator, then retried. Not Refused: that
            // would let the forwarder send and take "topic not in metadata" for permanent, dead-lettering records
            return new Unavailable(topic, prefix + "authentication failed, could not " + action + ": "
                    + c.getMessage(), c);
        }
        return new Refused(topic, prefix + "Kafka refused to " + action + ": " + c.getClass().getSimpleName() + ": "
                + c.getMessage(), c);
    }

    private static String describe(NewTopic t) {
        StringBuilder b = new StringBuilder().append("partitions ").append(t.numPartitions())
                .append(", replication factor ").append(t.replicationFactor());
        t.configs().forEach((k, v) -> b.append(", ").append(k).append(' ').append(v));
        return b.toString();
    }

    private static int intConfig(Config config, String key) {
        ConfigEntry e = config == null ? null : config.get(key);
        if (e == null || e.value() == null) {
            return -1;
        }
        try {
            return Integer.parseInt(e.value().trim());
        } catch (NumberFormatException ex) {
            return -1;
        }
    }

    private static <T> T await(KafkaFuture<T> f, long deadline)
            throws ExecutionException, TimeoutException, InterruptedException {
        return f.get(Math.max(0, remainingMs(deadline)) + GRACE_MS, TimeUnit.MILLISECONDS);
    }

    private static int callTimeout(long deadline) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, remainingMs(deadline)));
    }

    private static long remainingMs(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    private static Throwable cause(Throwable e) {
        Throwable c = e;
        while ((c instanceof ExecutionException || c instanceof CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
