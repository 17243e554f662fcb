package dev.holdfast.dist;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which module's code may use which: the dependency diagram of docs/ARCHITECTURE.md ("Modules"), checked on the
 * compiled main classes of every module (this module's test classpath holds them all, the chaos suite's too). A
 * Maven dependency alone would not catch code reaching through a transitive one.
 */
class LayeringTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.holdfast");

    @Test
    void everyModuleIsThere() {
        for (String pkg : new String[] {"dev.holdfast.protocol", "dev.holdfast.otlp", "dev.holdfast.config",
                "dev.holdfast.tls", "dev.holdfast.metrics", "dev.holdfast.wal", "dev.holdfast.forwarder",
                "dev.holdfast.intake", "dev.holdfast.shipper", "dev.holdfast.cli", "dev.holdfast.chaos",
                "dev.holdfast.broker", "dev.holdfast.client"}) {
            assertTrue(MAIN.containPackage(pkg), pkg + " not imported: the rules below would hold vacuously");
        }
    }

    @Test
    void modulesUseOnlyTheModulesBelowThem() {
        ArchRule layers = Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("wire (protocol/)").definedBy("dev.holdfast.protocol..", "dev.holdfast.otlp..")
                .layer("common (support/common/)").definedBy("dev.holdfast.config..", "dev.holdfast.tls..",
                        "dev.holdfast.metrics..")
                .layer("kafka-broker (support/kafka-broker/)").definedBy("dev.holdfast.broker..")
                .layer("intake-client (support/intake-client/)").definedBy("dev.holdfast.client..")
                .layer("wal/").definedBy("dev.holdfast.wal..")
                .layer("forwarder/").definedBy("dev.holdfast.forwarder..")
                .layer("intake-server/").definedBy("dev.holdfast.intake..")
                .layer("ebpf-shipper/").definedBy("dev.holdfast.shipper..")
                .layer("cli/").definedBy("dev.holdfast.cli..")
                .layer("chaos-tests/").definedBy("dev.holdfast.chaos..")
                .whereLayer("wire (protocol/)").mayOnlyBeAccessedByLayers("forwarder/", "intake-server/",
                        "intake-client (support/intake-client/)", "ebpf-shipper/", "cli/", "chaos-tests/")
                .whereLayer("common (support/common/)").mayOnlyBeAccessedByLayers("forwarder/", "intake-server/",
                        "intake-client (support/intake-client/)", "ebpf-shipper/", "cli/", "chaos-tests/")
                .whereLayer("kafka-broker (support/kafka-broker/)").mayOnlyBeAccessedByLayers("intake-server/", "cli/",
                        "chaos-tests/")
                .whereLayer("intake-client (support/intake-client/)").mayOnlyBeAccessedByLayers("ebpf-shipper/",
                        "cli/", "chaos-tests/")
                .whereLayer("wal/").mayOnlyBeAccessedByLayers("forwarder/", "intake-server/", "ebpf-shipper/",
                        "cli/", "chaos-tests/")
                .whereLayer("forwarder/").mayOnlyBeAccessedByLayers("intake-server/", "cli/", "chaos-tests/")
                .whereLayer("intake-server/").mayOnlyBeAccessedByLayers("cli/", "chaos-tests/")
                .whereLayer("ebpf-shipper/").mayOnlyBeAccessedByLayers("cli/", "chaos-tests/")
                .whereLayer("cli/").mayNotBeAccessedByAnyLayer()
                .whereLayer("chaos-tests/").mayNotBeAccessedByAnyLayer();
        layers.check(MAIN);
    }

    @Test
    void theWalKnowsNoProtocolNoKafkaAndNoNetwork() {
        noClasses().that().resideInAPackage("dev.holdfast.wal..")
                .should().dependOnClassesThat().resideInAnyPackage("com.google.protobuf..", "io.grpc..",
                        "org.apache.kafka..", "kafka..", "io.netty..")
                .because("the WAL stores opaque records; what they hold and where they go is the callers' business")
                .check(MAIN);
    }

    @Test
    void theForwarderSpeaksToKafkaThroughItsClientsOnly() {
        noClasses().that().resideInAPackage("dev.holdfast.forwarder..")
                .should().dependOnClassesThat().resideInAnyPackage("kafka..", "org.apache.kafka.server..",
                        "org.apache.kafka.metadata..", "org.apache.kafka.raft..", "org.apache.kafka.storage..",
                        "dev.holdfast.broker..")
                .because("a broker is something the forwarder sends to, not part of it (support/kafka-broker/)")
                .check(MAIN);
    }

    @Test
    void theWireAndTheCommonSupportStayFreeOfServers() {
        noClasses().that().resideInAnyPackage("dev.holdfast.protocol..", "dev.holdfast.otlp..",
                        "dev.holdfast.config..", "dev.holdfast.tls..", "dev.holdfast.metrics..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "kafka..",
                        "net.openhft..", "org.rocksdb..")
                .because("agents, the intake and the tools share these; none of them may drag in a broker or a store")
                .check(MAIN);
    }

    @Test
    void noShippedCodeUsesTheTestKit() {
        noClasses().that().resideOutsideOfPackages("dev.holdfast.testkit..", "dev.holdfast.chaos..")
                .should().dependOnClassesThat().resideInAPackage("dev.holdfast.testkit..")
                .because("holdfast-testkit is a test-scoped dependency and is not in the release (the chaos suite,"
                        + " which is not released either, has it at compile scope for its harness)")
                .check(MAIN);
    }
}
