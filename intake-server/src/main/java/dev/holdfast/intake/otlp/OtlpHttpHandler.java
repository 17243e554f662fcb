package dev.holdfast.intake.otlp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import dev.holdfast.intake.auth.Authenticator;
import dev.holdfast.intake.auth.Quote;
import dev.holdfast.otlp.OtlpJson;
import dev.holdfast.otlp.OtlpSignal;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One OTLP/HTTP connection's requests, as they stream in (no aggregator: a request is judged on its headers before
 * any of its body is kept).
 *
 * <ol>
 *   <li>Headers: path (404), method (405), credentials (401/403), content type and encoding (415), a declared length
 *   over the limit (400). A request refused here is answered at once and its body read and dropped (or, when the
 *   client waits for 100 Continue, the connection closed).</li>
 *   <li>Body: kept as it arrives, no more than {@code limits.maxBatchBytes}, as sent (compressed, or JSON text);
 *   beyond that the request is answered 400 and the connection closed (a chunked body; a declared one was refused
 *   on its headers).</li>
 *   <li>Whole: gzip undone ({@link Gunzip}, no further than the limit), JSON parsed, then {@link OtlpIntake}; the
 *   answer is written when its future completes, on this connection's event loop.</li>
 * </ol>
 *
 * Answers go out in the order the requests came, whatever order the WAL answers them in (a client may pipeline);
 * while one is awaited the connection is not read, so a client cannot queue up work here.
 */
final class OtlpHttpHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(OtlpHttpHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What every connection of the port shares. */
    static final class Shared {
        final OtlpIntake intake;
        final Authenticator authenticator;
        final Counter unauthenticated;
        /** Requests handed to the intake and not yet answered, over all connections: what close() waits for. */
        final AtomicInteger pending = new AtomicInteger();
        /** Bytes held for bodies being received, over all connections, and how many they may be. */
        final AtomicLong receiving = new AtomicLong();
        final long receivingBudget;
        volatile boolean closing;

        Shared(OtlpIntake intake, Authenticator authenticator, Counter unauthenticated, long receivingBudget) {
            this.intake = intake;
            this.authenticator = authenticator;
            this.unauthenticated = unauthenticated;
            this.receivingBudget = receivingBudget;
        }
    }

    /** A request's body format, which its answer is written in too; TEXT for answers to requests of neither. */
    enum Format {
        PROTOBUF("application/x-protobuf"), JSON("application/json"), TEXT("text/plain; charset=utf-8");

        final String contentType;

        Format(String contentType) {
            this.contentType = contentType;
        }
    }

    /** What a request's headers admitted: how to read its body, and who sent it (as the WAL names it). */
    record Admitted(OtlpSignal signal, Format format, boolean gzip, String sender) {
    }

    /** An answer's place in line; {@code response} null until it is known. */
    private static final class Answer {
        FullHttpResponse response;
        boolean close;
    }

    private final Shared shared;
    private final int limit;
    private final ArrayDeque<Answer> answers = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    /** The request whose body is being read; null when none is (or it was answered on its headers). */
    private Admitted current;
    private byte[] body;
    private int size;
    /** What {@code body}'s array holds of {@link Shared#receiving}. */
    private long reserved;
    /** An answer that closes the connection has been written: nothing more is read or answered. */
    private boolean hangingUp;

    OtlpHttpHandler(Shared shared) {
        this.shared = shared;
        this.limit = (int) Math.min(Integer.MAX_VALUE - 8, shared.intake.maxRequestBytes());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest head) {
                head(head);
                if (head.decoderResult().isFailure()) {
                    return; // answered, and the connection closed; the decoder reads nothing more
                }
            }
            if (msg instanceof HttpContent content) {
                content(content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    // ---------------------------------------------------------------------------------------------------- headers

    private void head(HttpRequest head) {
        current = null;
        releaseBody();
        size = 0;
        if (hangingUp) {
            return;
        }
        Format format = format(head);
        Format answerIn = format == null ? Format.TEXT : format;
        if (head.decoderResult().isFailure()) {
            refuse(head, HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, Format.TEXT,
                    "malformed HTTP request: " + head.decoderResult().cause().getMessage(), true);
            return;
        }
        String path = new QueryStringDecoder(head.uri()).path();
        OtlpSignal signal = signalAt(path);
        if (signal == null) {
            refuse(head, HttpResponseStatus.NOT_FOUND, Code.NOT_FOUND, answerIn, "no OTLP signal at "
                    + Quote.prefix(path) + "; POST to /v1/logs, /v1/traces or /v1/metrics", false);
            return;
        }
        if (!HttpMethod.POST.equals(head.method())) {
            FullHttpResponse r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, Code.UNIMPLEMENTED, answerIn,
                    "only POST is allowed on " + path);
            r.headers().set(HttpHeaderNames.ALLOW, HttpMethod.POST.name());
            answerNow(head, r, false);
            return;
        }
        if (shared.closing) {
            FullHttpResponse r = error(HttpResponseStatus.SERVICE_UNAVAILABLE, Code.UNAVAILABLE, answerIn,
                    "intake shutting down");
            r.headers().setInt(HttpHeaderNames.RETRY_AFTER, 1);
            answerNow(head, r, true);
            return;
        }
        String sender = sender(head, answerIn);
        if (sender == null) {
            return; // answered
        }
        if (format == null) {
            String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
            refuse(head, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, Code.INVALID_ARGUMENT, Format.TEXT,
                    "Content-Type must be application/x-protobuf or application/json, not "
                            + (type == null ? "absent" : Quote.prefix(type)), false);
            return;
        }
        String encoding = head.headers().get(HttpHeaderNames.CONTENT_ENCODING);
        boolean gzip = encoding != null && (encoding.strip().equalsIgnoreCase("gzip")
                || encoding.strip().equalsIgnoreCase("x-gzip"));
        if (encoding != null && !gzip && !encoding.strip().equalsIgnoreCase("identity")) {
            refuse(head, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, Code.INVALID_ARGUMENT, format,
                    "Content-Encoding " + Quote.prefix(encoding) + " is not supported; send gzip, or no"
                            + " Content-Encoding", false);
            return;
        }
        String expect = head.headers().get(HttpHeaderNames.EXPECT);
        boolean continueExpected = HttpUtil.is100ContinueExpected(head);
        if (expect != null && !continueExpected) {
            refuse(head, HttpResponseStatus.EXPECTATION_FAILED, Code.INVALID_ARGUMENT, format,
                    "Expect: " + Quote.prefix(expect) + " is not supported", true);
            return;
        }
        long declared = HttpUtil.getContentLength(head, -1L);
        if (declared > limit) {
            String message = "OTLP " + signal.configName() + " request body is " + declared + " bytes"
                    + (gzip ? " compressed" : "") + ", over the limit of " + limit + " bytes (limits.maxBatchBytes)";
            shared.intake.refused(signal, message);
            refuse(head, HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, format, message, false);
            return;
        }
        int initial = (int) Math.min(declared >= 0 ? declared : 8192, 64 * 1024);
        if (!reserve(initial)) {
            answerNow(head, answer(new Admitted(signal, format, gzip, sender), busy(signal), null), false);
            return;
        }
        current = new Admitted(signal, format, gzip, sender);
        body = new byte[initial];
        if (continueExpected) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
    }

    private static OtlpSignal signalAt(String path) {
        for (OtlpSignal s : OtlpSignal.values()) {
            if (s.httpPath().equals(path)) {
                return s;
            }
        }
        return null;
    }

    private static Format format(HttpRequest head) {
        CharSequence mime = HttpUtil.getMimeType(head);
        if (mime == null) {
            return null;
        }
        String m = mime.toString().strip();
        if (m.equalsIgnoreCase(Format.PROTOBUF.contentType)) {
            return Format.PROTOBUF;
        }
        return m.equalsIgnoreCase(Format.JSON.contentType) ? Format.JSON : null;
    }

    /**
     * The sender's name, or null when the request was refused for its credentials: the intake's authenticator (the
     * gRPC listener's), given the TLS session's verified client certificate and the Authorization header.
     */
    private String sender(HttpRequest head, Format answerIn) {
        if (shared.authenticator == null) {
            return OtlpGrpcServices.ANONYMOUS_SENDER;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        SSLSession session = ssl == null ? null : ssl.engine().getSession();
        try {
            return OtlpGrpcServices.sender(shared.authenticator.authenticate(session,
                    head.headers().get(HttpHeaderNames.AUTHORIZATION)));
        } catch (Authenticator.UnauthenticatedException e) {
            shared.unauthenticated.increment();
            // the authenticator speaks of gRPC metadata; here it is a header
            String message = e.getMessage().replace("metadata", "header");
            FullHttpResponse r = e.presented()
                    ? error(HttpResponseStatus.FORBIDDEN, Code.PERMISSION_DENIED, answerIn, message)
                    : error(HttpResponseStatus.UNAUTHORIZED, Code.UNAUTHENTICATED, answerIn, message);
            if (!e.presented()) {
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            }
            answerNow(head, r, false);
            return null;
        }
    }

    private void refuse(HttpRequest head, HttpResponseStatus status, Code code, Format format, String message,
                        boolean close) {
        answerNow(head, error(status, code, format, message), close);
    }

    /**
     * Answers a request on its headers; its body, if any, is read and dropped. A client waiting for 100 Continue
     * before it sends the body will not send it now, so its connection is closed rather than read in the wrong place.
     */
    private void answerNow(HttpRequest head, FullHttpResponse response, boolean close) {
        current = null;
        releaseBody();
        fill(slot(), response, close || HttpUtil.is100ContinueExpected(head));
    }

    // ------------------------------------------------------------------------------------------------------- body

    private void content(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            if (current != null) {
                current = null;
                releaseBody();
                fill(slot(), error(HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, Format.TEXT,
                        "malformed HTTP request body: " + content.decoderResult().cause().getMessage()), true);
            } else if (!hangingUp) {
                ctx.close(); // answered already, and its framing can no longer be trusted
            }
            return;
        }
        if (current == null) {
            return; // answered on its headers: dropped
        }
        ByteBuf data = content.content();
        int n = data.readableBytes();
        if (n > limit - size) {
            Admitted a = current;
            String message = "OTLP " + a.signal().configName() + " request body is over the limit of " + limit
                    + " bytes (limits.maxBatchBytes)" + (a.gzip() ? " even compressed" : "") + "; read no further";
            shared.intake.refused(a.signal(), message);
            current = null;
            releaseBody();
            // the client is still sending: closing is the only way to stop it
            fill(slot(), error(HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, a.format(), message), true);
            return;
        }
        if (n > body.length - size) {
            int grown = (int) Math.min(limit, Math.max(size + (long) n, body.length * 2L));
            if (!reserve(grown - body.length)) {
                Admitted a = current;
                current = null;
                releaseBody();
                // the client is still sending: closing is the only way to stop it
                fill(slot(), answer(a, busy(a.signal()), null), true);
                return;
            }
            body = Arrays.copyOf(body, grown);
        }
        data.readBytes(body, size, n);
        size += n;
        if (content instanceof LastHttpContent) {
            Admitted a = current;
            byte[] bytes = size == body.length ? body : Arrays.copyOf(body, size);
            current = null;
            releaseBody();
            export(a, bytes);
        }
    }

    /**
     * Takes {@code bytes} more of the port's budget for bodies being received ({@code
     * limits.connections.partialMessageBytesTotal}, as for gRPC messages): false, and nothing taken, when they would
     * go over it. Each connection holds at most one body, of at most {@code limits.maxBatchBytes}; this bounds them
     * all together, however many connections send slowly at once.
     */
    private boolean reserve(long bytes) {
        if (shared.receiving.addAndGet(bytes) > shared.receivingBudget) {
            shared.receiving.addAndGet(-bytes);
            return false;
        }
        reserved += bytes;
        return true;
    }

    private void releaseBody() {
        body = null;
        shared.receiving.addAndGet(-reserved);
        reserved = 0;
    }

    private OtlpResult.RetryLater busy(OtlpSignal signal) {
        return shared.intake.shed(signal, "intake busy: bodies being received over all OTLP/HTTP connections hold"
                + " their budget of " + shared.receivingBudget
                + " bytes (limits.connections.partialMessageBytesTotal)");
    }

    // ------------------------------------------------------------------------------------------------------ whole

    private void export(Admitted a, byte[] bytes) {
        Answer slot = slot();
        try {
            export(slot, a, bytes);
        } catch (RuntimeException e) { // a bug: answered, so that the answers behind it are not held up forever
            log.warn("OTLP/HTTP {} request failed", a.signal().configName(), e);
            fill(slot, error(HttpResponseStatus.INTERNAL_SERVER_ERROR, Code.INTERNAL, a.format(), "internal error: "
                    + e), true);
        }
    }

    private void export(Answer slot, Admitted a, byte[] bytes) {
        OtlpSignal signal = a.signal();
        if (a.gzip()) {
            try {
                bytes = Gunzip.inflate(bytes, limit);
            } catch (Gunzip.TooLargeException e) {
                invalid(slot, a, "OTLP " + signal.configName() + " request inflates past the limit of " + limit
                        + " bytes (limits.maxBatchBytes); inflated no further");
                return;
            } catch (Gunzip.DamagedException e) {
                invalid(slot, a, "OTLP " + signal.configName() + " request body is not valid gzip: " + e.getMessage());
                return;
            }
        }
        CompletableFuture<OtlpResult> result;
        if (a.format() == Format.JSON) {
            Message parsed;
            try {
                parsed = OtlpJson.parse(signal, bytes);
            } catch (OtlpJson.InvalidJsonException e) {
                invalid(slot, a, "not a valid OTLP/JSON " + signal.configName() + " request: " + e.getMessage());
                return;
            }
            result = shared.intake.accept(signal, parsed, null, a.sender());
        } else {
            result = shared.intake.accept(signal, bytes, a.sender());
        }
        if (result.isDone()) {
            fill(slot, answer(a, result.getNow(null), null), false);
            return;
        }
        // read nothing more from this connection until it is answered
        ctx.channel().config().setAutoRead(false);
        shared.pending.incrementAndGet();
        result.whenComplete((r, error) -> {
            shared.pending.decrementAndGet();
            ctx.executor().execute(() -> fill(slot, answer(a, r, error), false));
        });
    }

    private void invalid(Answer slot, Admitted a, String message) {
        shared.intake.refused(a.signal(), message);
        fill(slot, error(HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, a.format(), message), false);
    }

    /** The OTLP/HTTP answer to an intake outcome. */
    static FullHttpResponse answer(Admitted a, OtlpResult result, Throwable error) {
        if (error != null) {
            log.warn("OTLP/HTTP {} request failed", a.signal().configName(), error);
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, Code.INTERNAL, a.format(), "internal error: "
                    + error);
        }
        if (result instanceof OtlpResult.Accepted ok) {
            Message response = a.signal().response(ok.rejected(), ok.message());
            byte[] bytes = a.format() == Format.JSON ? OtlpJson.print(response) : response.toByteArray();
            return response(HttpResponseStatus.OK, a.format(), bytes);
        }
        if (result instanceof OtlpResult.RetryLater later) {
            FullHttpResponse r = later.overloaded()
                    ? error(HttpResponseStatus.TOO_MANY_REQUESTS, Code.RESOURCE_EXHAUSTED, a.format(), later.message())
                    : error(HttpResponseStatus.SERVICE_UNAVAILABLE, Code.UNAVAILABLE, a.format(), later.message());
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds(later.retryAfterMs()));
            return r;
        }
        return error(HttpResponseStatus.BAD_REQUEST, Code.INVALID_ARGUMENT, a.format(),
                ((OtlpResult.Invalid) result).message());
    }

    /** Retry-After is in whole seconds: rounded up, and at least 1 (0 would invite an immediate retry). */
    static long retryAfterSeconds(long millis) {
        return Math.max(1, (millis + 999) / 1000);
    }

    // ---------------------------------------------------------------------------------------------------- answers

    private Answer slot() {
        Answer a = new Answer();
        answers.add(a);
        return a;
    }

    /** Sets an answer, and writes every answer that is due: in request order, each once those before it are. */
    private void fill(Answer answer, FullHttpResponse response, boolean close) {
        answer.response = response;
        answer.close = close;
        while (!answers.isEmpty() && answers.peek().response != null) {
            Answer a = answers.poll();
            if (hangingUp) {
                continue; // the connection is closing: nothing more is written on it
            }
            if (a.close) {
                hangingUp = true;
                HttpUtil.setKeepAlive(a.response, false);
                ctx.writeAndFlush(a.response).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(a.response);
            }
        }
        if (answers.isEmpty() && !hangingUp && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /**
     * A failure's answer: in the request's format, a {@code google.rpc.Status} (code and message), as the OTLP
     * specification asks; else the message as text.
     */
    static FullHttpResponse error(HttpResponseStatus status, Code code, Format format, String message) {
        byte[] bytes = switch (format) {
            case PROTOBUF -> com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message).build()
                    .toByteArray();
            case JSON -> statusJson(code, message);
            case TEXT -> (message + "\n").getBytes(StandardCharsets.UTF_8);
        };
        return response(status, format, bytes);
    }

    /** A google.rpc.Status in the protobuf JSON mapping (details left out: there are none). */
    private static byte[] statusJson(Code code, String message) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("code", code.getNumber());
        status.put("message", message);
        try {
            return JSON.writeValueAsBytes(status);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a number and a string always serialise", e);
        }
    }

    private static FullHttpResponse response(HttpResponseStatus status, Format format, byte[] body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, format.contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        answers.clear();
        current = null;
        releaseBody();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("OTLP/HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
