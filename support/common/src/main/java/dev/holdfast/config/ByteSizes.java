package dev.holdfast.config;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes as written in config files: {@code "64MiB"}, {@code "512KiB"}, {@code "64MB"}, or plain bytes.
 *
 * <p>Both decimal (KB = 1000) and binary (KiB = 1024) units are accepted because operators use both;
 * they are kept distinct rather than treating "MB" as 2^20, so what is written is what is meant.
 */
public final class ByteSizes {

    private static final Map<String, Long> UNITS = new LinkedHashMap<>();

    static {
        UNITS.put("b", 1L);
        UNITS.put("kb", 1000L);
        UNITS.put("mb", 1000L * 1000);
        UNITS.put("gb", 1000L * 1000 * 1000);
        UNITS.put("tb", 1000L * 1000 * 1000 * 1000);
        UNITS.put("kib", 1L << 10);
        UNITS.put("mib", 1L << 20);
        UNITS.put("gib", 1L << 30);
        UNITS.put("tib", 1L << 40);
    }

    public static final String SYNTAX =
            "a number of bytes or a number with unit B|KB|MB|GB|TB|KiB|MiB|GiB|TiB, e.g. \"64MiB\"";

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]+)?");

    private ByteSizes() {}

    /** Empty when the text is not a size, or names a fraction of a byte, or overflows a long. */
    public static OptionalLong parse(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        Long unit = m.group(2) == null ? Long.valueOf(1) : UNITS.get(m.group(2).toLowerCase(Locale.ROOT));
        if (unit == null) {
            return OptionalLong.empty();
        }
        try {
            BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
            return OptionalLong.of(bytes.longValueExact()); // throws on fractions and overflow
        } catch (ArithmeticException e) {
            return OptionalLong.empty();
        }
    }

    /** The largest binary unit that divides the value exactly, so messages echo what people write. */
    public static String format(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes != 0 && bytes % unit == 0) {
                return (bytes / unit) + units[i];
            }
        }
        return bytes + "B";
    }

    /** For people reading figures: "512 B", "1.5 KiB", "24.7 MiB" (one decimal, binary units). */
    public static String approximate(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = 0;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return i == 0 ? bytes + " B" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[i]);
    }
}
