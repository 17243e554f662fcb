package dev.holdfast.shipper.source;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.holdfast.shipper.ebpf.Filters;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PathFilterTest {
    final PathFilter f = new PathFilter(new Filters(Set.of("/data/", "/data/tmp/keep/"), Set.of("/data/tmp/"),
            Set.of(), Set.of(".swp", "core"), Set.of()));

    @Test
    void longerPrefixWinsLikeInTheKernel() {
        assertTrue(f.passes("/data/a.txt", false));
        assertFalse(f.passes("/data/tmp/a.txt", false));
        assertTrue(f.passes("/data/tmp/keep/a.txt", false));
        assertFalse(f.passes("/other/a.txt", false));
        assertFalse(f.passes("/datax/a.txt", false), "byte-wise prefix with the trailing slash");
    }

    @Test
    void directoriesMatchWithTheirTrailingSlash() {
        assertFalse(f.passes("/data/tmp", true));
        assertTrue(f.passes("/data/tmp", false), "a file named tmp is not the excluded directory");
        assertTrue(f.descendInto("/data/tmp"), "an include below it");
        assertTrue(f.descendInto("/data/sub"));
        assertFalse(f.descendInto("/other"));
    }

    @Test
    void excludedNamesAndExtensions() {
        assertFalse(f.passes("/data/.x.swp", false));
        assertFalse(f.passes("/data/core", false));
        assertTrue(f.passes("/data/core.txt", false));
    }
}
