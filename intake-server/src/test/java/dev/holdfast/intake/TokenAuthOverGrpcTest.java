package dev.holdfast.intake;

import dev.holdfast.intake.auth.Tokens;
import dev.holdfast.intake.config.IntakeConfig;
import dev.holdfast.protocol.v1.BatchAck;
import dev.holdfast.protocol.v1.EventBatch;
import dev.holdfast.protocol.v1.Hello;
import dev.holdfast.protocol.v1.Priority;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bearer-token identity and per-agent authorization over real gRPC on loopback: what a refused call leaves behind is
 * checked in the WAL and in the agents' sequences, not only in the status.
 */
class TokenAuthOverGrpcTest {
    static final long HUGE = Long.MAX_VALUE;
    @TempDir
    Path tmp;
    private IntakeFixture intake;
    private Path tokens;

    private IntakeFixture start(IntakeConfig.Auth.Require require, String tokenFile) throws Exception {
        tokens = Files.writeString(tmp.resolve("tokens"), tokenFile);
        intake = new IntakeFixture(tmp.resolve("data"), new IntakeConfig.Auth(require, tokens,
                List.of(new IntakeConfig.AgentRule("gw", List.of("edge-*")))));
        intake.start();
        return intake;
    }

    private static String line(String token, String identity, String... globs) {
        return Tokens.hash(token) + " " + identity + (globs.length == 0 ? "" : " " + String.join(" ", globs)) + "\n";
    }

    private static final String FILE = "# test tokens\n" + line("t-agent-7", "agent-7") + line("t-agent-8", "agent-8")
            + line("t-gw", "gw") + line("t-lab", "lab-gw", "lab-?");

    @AfterEach
    void stop() throws Exception {
        if (intake != null) intake.close();
    }

    private TestClient as(String token) {
        return intake.track(TestClient.withToken(intake.server().grpcPort(), token));
    }

    private static EventBatch batch(String agent, long seq) {
        return TestClient.batch(agent, seq, 2, Priority.NORMAL, 10);
    }

    private static Status.Code code(Executable call) {
        return Status.fromThrowable(assertThrows(StatusRuntimeException.class, call)).getCode();
    }

    private static Status status(Executable call) {
        return Status.fromThrowable(assertThrows(StatusRuntimeException.class, call));
    }

    @Test
    void theHealthServiceAnswersAProbeWithoutCredentialsAndNothingElseDoes() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", intake.server().grpcPort()).usePlaintext().build();
        try {
            var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS);
            for (String service : List.of("", dev.holdfast.protocol.v1.IntakeServiceGrpc.SERVICE_NAME)) {
                assertEquals(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING, health.check(
                        io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(service).build()).getStatus(),
                        "service '" + service + "'");
            }
            assertEquals(Status.Code.NOT_FOUND, code(() -> health.check(
                    io.grpc.health.v1.HealthCheckRequest.newBuilder().setService("no.such.Service").build())));
            // the same channel, no token: the intake's own service still refuses
            assertEquals(Status.Code.UNAUTHENTICATED, code(() -> new TestClient(channel).blocking()
                    .send(batch("agent-7", 1))));
        } finally {
            channel.shutdownNow();
        }
        assertTrue(intake.walContents().isEmpty());
    }

    @Test
    void aValidTokenSendsAsItsOwnAgentAndTheBatchesArePersisted() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        TestClient c = as("t-agent-7");
        TestClient.Stream s = c.stream();
        assertEquals(0, s.hello("agent-7").getWelcome().getPersistedThrough());
        s.send(batch("agent-7", 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(BatchAck.Status.PERSISTED, c.blocking().send(batch("agent-7", 2)).getStatus());
        assertEquals(2, c.blocking().resume(Hello.newBuilder().setAgentId("agent-7").build()).getPersistedThrough());
        assertEquals(Set.of("agent-7#1", "agent-7#2"), intake.walContents().keySet());
    }

    @Test
    void missingOrUnknownTokensAreUnauthenticatedAndNothingIsWritten() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        for (TestClient c : List.of(intake.client(), as("t-unknown"), as(""))) {
            assertEquals(Status.Code.UNAUTHENTICATED, code(() -> c.blocking().send(batch("agent-7", 1))));
            assertEquals(Status.Code.UNAUTHENTICATED,
                    code(() -> c.blocking().resume(Hello.newBuilder().setAgentId("agent-7").build())));
            TestClient.Stream s = c.stream();
            s.send(batch("agent-7", 1)); // not even read: the call is refused before its first message
            assertEquals(Status.Code.UNAUTHENTICATED, s.error().getCode());
        }
        Status unknown = status(() -> as("t-unknown").blocking().send(batch("agent-7", 1)));
        assertEquals("unknown bearer token (not in auth.tokens)", unknown.getDescription());
        assertFalse(unknown.getDescription().contains("t-unknown"), "the token is never quoted back");
        assertTrue(intake.walContents().isEmpty());
        assertTrue(intake.metrics().contains("holdfast_auth_refused_total{reason=\"unauthenticated\"} 10.0"),
                intake.metrics());
    }

    /**
     * The attack from the security issue: one call as the victim with a huge acknowledged_through would make every
     * later batch of the victim DUPLICATE and never written. Refused, it changes nothing, across a restart too.
     */
    @Test
    void anotherAgentsIdIsRefusedForHelloSendAndResumeAndChangesNothing() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        TestClient mallory = as("t-agent-7");
        TestClient.Stream s = mallory.stream();
        s.out.onNext(dev.holdfast.protocol.v1.AgentMessage.newBuilder().setHello(Hello.newBuilder()
                .setAgentId("agent-8").setAcknowledgedThrough(HUGE)).build().toByteArray());
        Status hello = s.error();
        assertEquals(Status.Code.PERMISSION_DENIED, hello.getCode());
        assertEquals("hello.agent_id \"agent-8\" is not an agent token identity \"agent-7\" may send as (its own name,"
                + " or a glob granted in auth.agents or its token entry); nothing was written", hello.getDescription());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> mallory.blocking().send(batch("agent-8", 1))));
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> mallory.blocking().resume(
                Hello.newBuilder().setAgentId("agent-8").setAcknowledgedThrough(HUGE).build())));
        assertTrue(intake.walContents().isEmpty());
        assertEquals(0, intake.server().wal().sequences().agentCount());
        assertTrue(intake.metrics().contains("holdfast_intake_rejections_total{reason=\"permission_denied\"} 3.0"),
                intake.metrics());

        intake.restart(); // the checkpoint written at close holds nothing of agent-8 either
        TestClient victim = as("t-agent-8");
        TestClient.Stream v = victim.stream();
        assertEquals(0, v.hello("agent-8").getWelcome().getPersistedThrough());
        v.send(batch("agent-8", 1));
        assertEquals(BatchAck.Status.PERSISTED, v.next().getAck().getStatus(), "written, not taken for a duplicate");
        assertEquals(Set.of("agent-8#1"), intake.walContents().keySet());
    }

    @Test
    void aBatchForAnotherAgentInsideAStreamIsInvalidWithAShortMessage() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        TestClient.Stream s = as("t-agent-7").stream();
        s.hello("agent-7");
        String longId = "agent-8-" + "x".repeat(240);
        s.send(batch(longId, 5));
        BatchAck ack = s.next().getAck();
        assertEquals(BatchAck.Status.INVALID, ack.getStatus());
        assertEquals(5, ack.getBatchSeq());
        assertTrue(ack.getMessage().startsWith("agent_id \"agent-8-xxx"), ack.getMessage());
        assertTrue(ack.getMessage().contains("does not match the stream's hello.agent_id \"agent-7\""), ack.getMessage());
        assertTrue(ack.getMessage().length() < 250, "quotes a prefix only: " + ack.getMessage());
        s.send(batch("agent-7", 6)); // the stream goes on
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(Set.of("agent-7#6"), intake.walContents().keySet());
    }

    @Test
    void aGatewayMaySendAsTheAgentsItIsGrantedOnly() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        TestClient gw = as("t-gw");
        TestClient.Stream s = gw.stream();
        s.hello("edge-1");
        s.send(batch("edge-1", 1));
        assertEquals(BatchAck.Status.PERSISTED, s.next().getAck().getStatus());
        assertEquals(BatchAck.Status.PERSISTED, gw.blocking().send(batch("edge-2", 1)).getStatus());
        assertEquals(BatchAck.Status.PERSISTED, gw.blocking().send(batch("gw", 1)).getStatus()); // itself
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> gw.blocking().send(batch("core-1", 1))));
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> gw.blocking().send(batch("xedge-1", 1))));
        assertEquals(Status.Code.PERMISSION_DENIED,
                code(() -> gw.blocking().resume(Hello.newBuilder().setAgentId("core-1").build())));
        TestClient.Stream core = gw.stream();
        core.sendRawMessage(dev.holdfast.protocol.v1.AgentMessage.newBuilder()
                .setHello(Hello.newBuilder().setAgentId("core-1")).build().toByteArray());
        assertEquals(Status.Code.PERMISSION_DENIED, core.error().getCode());
        // globs from the token line itself
        TestClient lab = as("t-lab");
        assertEquals(BatchAck.Status.PERSISTED, lab.blocking().send(batch("lab-1", 1)).getStatus());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> lab.blocking().send(batch("lab-12", 1))));
        assertEquals(Set.of("edge-1#1", "edge-2#1", "gw#1", "lab-1#1"), intake.walContents().keySet());
    }

    @Test
    void theTokenFileIsReloadedAndABadNewFileKeepsTheLastGoodOne() throws Exception {
        start(IntakeConfig.Auth.Require.TOKEN, FILE);
        var watcher = intake.server().auth().tokens().orElseThrow();
        assertFalse(watcher.check(), "unchanged");
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> as("t-agent-9").blocking().send(batch("agent-9", 1))));

        Files.writeString(tokens, line("t-agent-9", "agent-9") + line("t-agent-7", "agent-7"));
        assertTrue(watcher.check());
        assertEquals(BatchAck.Status.PERSISTED, as("t-agent-9").blocking().send(batch("agent-9", 1)).getStatus());
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> as("t-agent-8").blocking().send(batch("agent-8", 1))),
                "a token removed from the file is revoked");

        Files.writeString(tokens, line("t-agent-9", "agent-9") + "t-agent-7 agent-7\n"); // a plaintext token
        assertFalse(watcher.check());
        assertFalse(watcher.check(), "reported once");
        assertEquals(BatchAck.Status.PERSISTED, as("t-agent-9").blocking().send(batch("agent-9", 2)).getStatus());
        assertEquals(BatchAck.Status.PERSISTED, as("t-agent-7").blocking().send(batch("agent-7", 1)).getStatus());
        assertTrue(intake.metrics().contains("holdfast_auth_tokens_reload_failures_total 1.0"), intake.metrics());
        assertTrue(intake.metrics().contains("holdfast_auth_tokens_entries 2.0"), intake.metrics());

        Files.delete(tokens);
        assertFalse(watcher.check());
        assertEquals(BatchAck.Status.PERSISTED, as("t-agent-9").blocking().send(batch("agent-9", 3)).getStatus());
        assertEquals(Set.of("agent-9#1", "agent-9#2", "agent-9#3", "agent-7#1"), intake.walContents().keySet());
    }

    @Test
    void badTokenFileAtStartIsOneLineNamingFileAndLine() throws Exception {
        dev.holdfast.config.InvalidConfigException e = assertThrows(dev.holdfast.config.InvalidConfigException.class,
                () -> start(IntakeConfig.Auth.Require.TOKEN, line("a", "agent-a") + "sha256:12 agent-b\n"));
        assertEquals(List.of("auth.tokens: " + tokens + ":2: the first field is not sha256:<64 hex digits> (a"
                + " token's hash; make one with 'holdfast token hash'; a plaintext token is not accepted)"), e.problems());
    }

    /** require: none with a token file: a caller without credentials is unrestricted, as before; with one, not. */
    @Test
    void optionalTokensLeaveCallersWithoutCredentialsAsTheyWere() throws Exception {
        start(IntakeConfig.Auth.Require.NONE, FILE);
        assertEquals(BatchAck.Status.PERSISTED, intake.client().blocking().send(batch("anyone", 1)).getStatus());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> as("t-agent-7").blocking().send(batch("anyone", 2))));
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> as("nope").blocking().send(batch("anyone", 2))));
        assertEquals(Set.of("anyone#1"), intake.walContents().keySet());
    }
}
