package dev.holdfast.intake.auth;

import io.grpc.Context;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who is calling, as the {@link AuthInterceptor} established it, and which agent ids that caller may send as: its own
 * names (a certificate's CN and DNS/URI SANs, or a token's identity) and the globs granted to any of them.
 */
public final class Caller {
    /** A caller without credentials where none are required: may send as any agent, as before authentication existed. */
    public static final Caller ANONYMOUS = new Caller("anonymous", "no credentials", Set.of(), List.of(), true);

    private static final Context.Key<Caller> KEY = Context.keyWithDefault("holdfast-caller", ANONYMOUS);

    private final String name;
    private final String via;
    private final Set<String> names;
    private final List<Pattern> globs;
    private final boolean unrestricted;

    private Caller(String name, String via, Set<String> names, List<Pattern> globs, boolean unrestricted) {
        this.name = name;
        this.via = via;
        this.names = names;
        this.globs = globs;
        this.unrestricted = unrestricted;
    }

    /**
     * @param names its identities, the one to name it by first
     * @param via   how it was identified ("certificate", "token"), for messages and logs
     */
    static Caller identified(List<String> names, String via, List<Pattern> globs) {
        return new Caller(names.get(0), via, Set.copyOf(names), List.copyOf(globs), false);
    }

    /** The caller of the gRPC call this thread serves; {@link #ANONYMOUS} where no interceptor ran. */
    public static Caller current() {
        return KEY.get();
    }

    Context attach(Context context) {
        return context.withValue(KEY, this);
    }

    public String name() {
        return name;
    }

    public boolean unrestricted() {
        return unrestricted;
    }

    /**
     * Null when this caller may send as {@code agentId}, else a one-line refusal that quotes only a short prefix of
     * the id (it comes from the client).
     *
     * @param field where the id was read, e.g. {@code hello.agent_id}
     */
    public String refusal(String field, String agentId) {
        if (unrestricted || names.contains(agentId)) {
            return null;
        }
        for (Pattern glob : globs) {
            if (glob.matcher(agentId).matches()) {
                return null;
            }
        }
        return field + " " + Quote.prefix(agentId) + " is not an agent " + via + " identity " + Quote.prefix(name)
                + " may send as (its own name, or a glob granted in auth.agents or its token entry); nothing was written";
    }

    @Override
    public String toString() {
        return unrestricted ? name : via + ":" + name;
    }
}
