package dev.holdfast.intake.http;

import dev.holdfast.metrics.Metrics;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the operational endpoints. Runs on the event loop, so it only does cheap in-memory
 * work: a scrape formats meters already in memory, the readiness supplier is a field read, and a status report
 * copies a few hundred samples the sampler thread already made.
 * Keep-alive bookkeeping is left to {@code HttpServerKeepAliveHandler} earlier in the pipeline.
 */
@ChannelHandler.Sharable
final class HttpRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";
    private static final Logger log = LoggerFactory.getLogger(HttpRequestHandler.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final PrometheusMeterRegistry registry;
    private final Supplier<Readiness> readiness;
    private final HttpAccess access;
    /** null on a port without a status page */
    private final StatusDocument status;

    HttpRequestHandler(PrometheusMeterRegistry registry, Supplier<Readiness> readiness, HttpAccess access,
                       StatusDocument status) {
        this.registry = registry;
        this.readiness = readiness;
        this.access = access;
        this.status = status;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            // The connection's framing can no longer be trusted; answer and hang up.
            FullHttpResponse response = text(HttpResponseStatus.BAD_REQUEST, "malformed request\n");
            HttpUtil.setKeepAlive(response, false);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(route(request, ctx.channel().remoteAddress()));
    }

    private FullHttpResponse route(FullHttpRequest request, java.net.SocketAddress remote) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path();
        boolean statusPath = status != null && (path.equals("/") || path.equals("/api/status"));
        if (!path.equals("/metrics") && !path.equals("/healthz") && !path.equals("/readyz") && !statusPath) {
            return text(HttpResponseStatus.NOT_FOUND, "not found; try " + (status != null ? "/ (status page), "
                    + "/api/status, " : "") + "/metrics, /healthz or /readyz\n");
        }
        if (!HttpMethod.GET.equals(request.method())) {
            FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is allowed\n");
            response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
            return response;
        }
        if (!access.allowed(path, remote, request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            FullHttpResponse response = text(HttpResponseStatus.UNAUTHORIZED,
                    "a bearer token is required from other addresses than loopback (auth.httpToken)\n");
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            return response;
        }
        return switch (path) {
            case "/metrics" -> {
                String type = Metrics.contentType(request.headers().get(HttpHeaderNames.ACCEPT));
                yield response(HttpResponseStatus.OK, type, utf8(registry.scrape(type)));
            }
            case "/healthz" -> text(HttpResponseStatus.OK, "ok\n");
            case "/" -> statusPage();
            case "/api/status" -> statusJson(uri);
            default -> readyz();
        };
    }

    private static FullHttpResponse statusPage() {
        FullHttpResponse response = response(HttpResponseStatus.OK, "text/html; charset=utf-8",
                Unpooled.wrappedBuffer(StatusPage.html()));
        // The browser enforces what the page promises: nothing loads from anywhere but this port
        response.headers().set("Content-Security-Policy", StatusPage.CONTENT_SECURITY_POLICY)
                .set("X-Content-Type-Options", "nosniff");
        return response;
    }

    private FullHttpResponse statusJson(QueryStringDecoder uri) {
        long since = 0;
        var param = uri.parameters().get("since");
        if (param != null && !param.isEmpty()) {
            try {
                since = Long.parseLong(param.get(0));
            } catch (NumberFormatException e) {
                return text(HttpResponseStatus.BAD_REQUEST, "since must be a time in epoch milliseconds, not "
                        + param.get(0).substring(0, Math.min(40, param.get(0).length())) + "\n");
            }
        }
        try {
            return response(HttpResponseStatus.OK, JSON,
                    Unpooled.wrappedBuffer(MAPPER.writeValueAsBytes(status.report(since))));
        } catch (JsonProcessingException | RuntimeException e) {
            // the page says "status unavailable: ..." instead of showing figures it did not get
            log.warn("status report failed", e);
            return jsonError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "status report failed: " + e);
        }
    }

    private static FullHttpResponse jsonError(HttpResponseStatus status, String message) {
        try {
            return response(status, JSON, Unpooled.wrappedBuffer(MAPPER.writeValueAsBytes(Map.of("error", message))));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings always serialises", e);
        }
    }

    private FullHttpResponse readyz() {
        Readiness r;
        try {
            r = readiness.get();
        } catch (RuntimeException e) {
            // A broken check must not look like "ready", nor kill the connection with a 500 and no body.
            log.warn("readiness check failed", e);
            r = Readiness.notReady("readiness check failed: " + e);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", r.ready() ? "ready" : "not ready");
        if (!r.reasons().isEmpty()) {
            body.put("reasons", r.reasons());
        }
        if (!r.details().isEmpty()) {
            body.put("details", r.details());
        }
        HttpResponseStatus status = r.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
        try {
            return response(status, JSON, Unpooled.wrappedBuffer(MAPPER.writeValueAsBytes(body)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings always serialises", e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, TEXT, utf8(body));
    }

    private static ByteBuf utf8(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, ByteBuf body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }
}
