package dev.holdfast.intake.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes an HTTP connection whose next request has not arrived whole within the deadline: from the connection's
 * start, and again from each response's end (an idle keep-alive connection). A client trickling its headers a byte
 * at a time (slowloris) holds the connection no longer than that, whatever it does. "Arrived whole" is the request's
 * last content: a {@link io.netty.handler.codec.http.FullHttpRequest} after an aggregator, or the
 * {@link LastHttpContent} of a request read as it streams in.
 *
 * <p>The deadline is off only while a request read whole waits for its response. A request answered before its body
 * has arrived (refused on its headers, its body then read and discarded) must still finish within the deadline from
 * that answer, and one an aggregator swallowed (answered by the aggregator, never passed on) leaves nothing behind.
 * Informational responses (100 Continue) are not answers.
 */
public final class RequestDeadline extends ChannelDuplexHandler {
    private final long nanos;
    private ScheduledFuture<?> timer;
    /** Requests begun (headers read), read whole, and answered, on this connection; whole and answered ≤ begun. */
    private long begun;
    private long whole;
    private long answered;

    public RequestDeadline(Duration deadline) {
        this.nanos = deadline.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        arm(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest) {
            whole = begun; // HTTP/1.1 reads one request after the other: the ones before are whole
            begun++;
        }
        if (msg instanceof LastHttpContent) {
            whole = begun;
            if (whole > answered) {
                disarm(); // its response is being worked out
            }
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        boolean informational = msg instanceof HttpResponse r
                && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
        if (msg instanceof LastHttpContent && !informational) {
            // the response is complete: the connection may wait for the next request, up to the deadline
            promise = promise.unvoid();
            promise.addListener((ChannelFutureListener) f -> {
                if (answered < begun) {
                    answered++;
                }
                if (whole <= answered) {
                    arm(ctx);
                }
            });
        }
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        disarm();
        super.channelInactive(ctx);
    }

    private void arm(ChannelHandlerContext ctx) {
        disarm();
        if (ctx.channel().isActive()) {
            timer = ctx.executor().schedule(() -> {
                ctx.close();
            }, nanos, TimeUnit.NANOSECONDS);
        }
    }

    private void disarm() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
