package dev.holdfast.shipper.ebpf;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * In-kernel filters, replaceable at runtime with {@link EbpfProbe#updateFilters(Filters)}.
 *
 * <p>Prefixes are absolute path prefixes matched byte-wise (LPM trie, at most 256 bytes); give directories
 * a trailing '/' so that "/etc/" does not match "/etcd". When a path matches both an include and an exclude
 * prefix, the longer prefix wins. With no include prefix, everything not excluded is included. Names are
 * basenames ("core") or extensions with their dot (".swp"), at most 31 bytes; an excluded name drops the
 * event, and once any include name is given only matching names pass. Process names (comm) are at most 15
 * bytes. An event with two paths (rename, link) passes when either path passes.
 */
public record Filters(Set<String> includePrefixes, Set<String> excludePrefixes, Set<String> includeNames,
                      Set<String> excludeNames, Set<String> excludeComms) {

    public static final List<String> DEFAULT_EXCLUDES = List.of("/proc/", "/sys/", "/dev/");

    public Filters {
        includePrefixes = Set.copyOf(includePrefixes);
        excludePrefixes = Set.copyOf(excludePrefixes);
        includeNames = Set.copyOf(includeNames);
        excludeNames = Set.copyOf(excludeNames);
        excludeComms = Set.copyOf(excludeComms);
        for (String p : includePrefixes) {
            checkPrefix("includePrefixes", p);
        }
        for (String p : excludePrefixes) {
            checkPrefix("excludePrefixes", p);
        }
        for (String n : includeNames) {
            checkLen("includeNames", n, 31);
        }
        for (String n : excludeNames) {
            checkLen("excludeNames", n, 31);
        }
        for (String c : excludeComms) {
            checkLen("excludeComms", c, 15);
        }
        for (String n : includeNames) {
            if (excludeNames.contains(n)) {
                throw new IllegalArgumentException("includeNames and excludeNames both contain '" + n + "'");
            }
        }
    }

    /** The defaults: exclude /proc/, /sys/, /dev/; nothing else. */
    public static Filters defaults() {
        return new Filters(Set.of(), Set.copyOf(DEFAULT_EXCLUDES), Set.of(), Set.of(), Set.of());
    }

    public Filters withIncludePrefixes(Set<String> v) {
        return new Filters(v, excludePrefixes, includeNames, excludeNames, excludeComms);
    }

    public Filters withExcludePrefixes(Set<String> v) {
        return new Filters(includePrefixes, v, includeNames, excludeNames, excludeComms);
    }

    public Filters withExcludeNames(Set<String> v) {
        return new Filters(includePrefixes, excludePrefixes, includeNames, v, excludeComms);
    }

    public Filters withExcludeComms(Set<String> v) {
        return new Filters(includePrefixes, excludePrefixes, includeNames, excludeNames, v);
    }

    private static void checkPrefix(String field, String p) {
        if (p == null || !p.startsWith("/")) {
            throw new IllegalArgumentException(field + ": '" + p + "' is not an absolute path prefix");
        }
        checkLen(field, p, 256);
    }

    private static void checkLen(String field, String s, int max) {
        if (s == null || s.isEmpty() || s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(field + ": empty or NUL-containing entry");
        }
        int n = s.getBytes(StandardCharsets.UTF_8).length;
        if (n > max) {
            throw new IllegalArgumentException(field + ": '" + s + "' is " + n + " bytes, at most " + max + " allowed");
        }
    }
}
