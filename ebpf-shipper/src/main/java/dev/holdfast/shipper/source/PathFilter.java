package dev.holdfast.shipper.source;

import dev.holdfast.shipper.ebpf.Filters;

/**
 * The prefix and name rules of {@link Filters}, applied in Java for the fallback source with the kernel's
 * semantics: byte-wise prefixes where the longer matching prefix wins, names as basenames or ".ext".
 * Process names cannot be applied: inotify does not say who made a change.
 */
final class PathFilter {
    private final Filters filters;

    PathFilter(Filters filters) {
        this.filters = filters;
    }

    /** True when an event on {@code path} (a directory when {@code dir}) passes the filters. */
    boolean passes(String path, boolean dir) {
        // Directories are matched with their trailing '/' so that the prefix "/a/tmp/" also covers "/a/tmp" itself.
        String p = dir ? path + "/" : path;
        int include = longestMatch(filters.includePrefixes(), p);
        int exclude = longestMatch(filters.excludePrefixes(), p);
        boolean prefixOk = filters.includePrefixes().isEmpty() ? exclude < 0 : include > exclude;
        return prefixOk && namePasses(basename(path));
    }

    /** True when the directory's subtree may hold events that pass (it is not excluded as a whole). */
    boolean descendInto(String dir) {
        String p = dir + "/";
        int include = longestMatch(filters.includePrefixes(), p);
        int exclude = longestMatch(filters.excludePrefixes(), p);
        if (filters.includePrefixes().isEmpty() ? exclude < 0 : include > exclude) {
            return true;
        }
        // Not included itself, but an include prefix below it (e.g. exclude /a/, include /a/keep/) wins there.
        for (String inc : filters.includePrefixes()) {
            if (inc.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private boolean namePasses(String name) {
        int dot = name.lastIndexOf('.');
        String ext = dot > 0 ? name.substring(dot) : null;
        if (filters.excludeNames().contains(name) || (ext != null && filters.excludeNames().contains(ext))) {
            return false;
        }
        return filters.includeNames().isEmpty() || filters.includeNames().contains(name)
                || (ext != null && filters.includeNames().contains(ext));
    }

    private static int longestMatch(Iterable<String> prefixes, String p) {
        int best = -1;
        for (String prefix : prefixes) {
            if (p.startsWith(prefix) && prefix.length() > best) {
                best = prefix.length();
            }
        }
        return best;
    }

    private static String basename(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
