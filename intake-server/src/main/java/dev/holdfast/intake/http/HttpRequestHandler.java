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
 * Routes the three operational endpoints. Runs on the event loop, so it only does cheap in-memory
 * work: a scrape formats meters already in memory and the readiness supplier is a field read.
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

    HttpRequestHandler(PrometheusMeterRegistry registry, Supplier<Readiness> readiness, HttpAccess access) {
        this.registry = registry;
        this.readiness = readiness;
        this.access = access;
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
        String path = new QueryStringDecoder(request.uri()).path();
        if (!path.equals("/metrics") && !path.equals("/healthz") && !path.equals("/readyz")) {
            return text(HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz or /readyz\n");
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
            default -> readyz();
        };
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
