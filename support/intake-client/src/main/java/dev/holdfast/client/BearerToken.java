package dev.holdfast.client;

import dev.holdfast.config.ReloadedFiles;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Sends {@code authorization: Bearer <token>} on every call, the token read from a file (the intake's
 * {@code auth.tokens} holds only its hash). The file is checked again ({@link ReloadedFiles}), at most every
 * {@link #RECHECK}, so a rotated token is used without a restart; a file that becomes unusable keeps the last good
 * token in use (the intake will say UNAUTHENTICATED if that one is revoked). The token is never logged or put in a
 * message.
 */
public final class BearerToken implements ClientInterceptor {
    static final Duration RECHECK = Duration.ofSeconds(2);
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ReloadedFiles<String> file;
    private final Clock clock;
    private volatile Instant checked;

    private BearerToken(ReloadedFiles<String> file, Clock clock) {
        this.file = file;
        this.clock = clock;
        this.checked = clock.instant();
    }

    /**
     * Reads the token file.
     *
     * @throws IOException naming the file and what is wrong with it (never quoting its content)
     */
    public static BearerToken fromFile(Path file, Clock clock) throws IOException {
        try {
            return new BearerToken(ReloadedFiles.load(List.of(file), c -> parse(file, c[0])), clock);
        } catch (ReloadedFiles.UnreadableFileException e) {
            throw new IOException("token file " + file + ": " + e.reason(), e);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("reading " + file + " failed: " + e, e); // a bug: parse throws IOException
        }
    }

    /** One token on one line: visible ASCII, no spaces (RFC 6750's token characters and a few more). */
    private static String parse(Path file, byte[] content) throws IOException {
        String text = new String(content, StandardCharsets.ISO_8859_1).strip();
        if (text.isEmpty()) {
            throw new IOException("token file " + file + ": empty");
        }
        if (text.length() > 4096 || !text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IOException("token file " + file + ": must hold one token of at most 4096 visible ASCII"
                    + " characters (holdfast token generate makes one)");
        }
        return text;
    }

    /** The token in use; the file checked again when that is due. */
    String current() {
        Instant now = clock.instant();
        if (!now.isBefore(checked.plus(RECHECK))) {
            checked = now;
            file.check(); // a half-written or removed file keeps the last good token: it must not cut the agent off
        }
        return file.value();
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                headers.put(AUTHORIZATION, "Bearer " + current());
                super.start(listener, headers);
            }
        };
    }
}
