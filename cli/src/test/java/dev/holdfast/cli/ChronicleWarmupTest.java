package dev.holdfast.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChronicleWarmupTest {
    @Test
    void warmsUpForTheCommandsThatOpenAWal() {
        assertTrue(ChronicleWarmup.startFor("intake", "intake", "--config", "intake.yaml"));
        assertTrue(ChronicleWarmup.startFor("wal", "wal", "verify", "/var/lib/holdfast/wal"));
    }

    @Test
    void notForCommandsThatOnlyPrintAndExitOrOpenNoWal() {
        // the warm-up loads JNA, which can log into what must be one line of output
        assertFalse(ChronicleWarmup.startFor("intake", "intake", "--version"));
        assertFalse(ChronicleWarmup.startFor("wal", "wal", "verify", "-h"));
        assertFalse(ChronicleWarmup.startFor("shipper", "shipper", "--help"));
        assertFalse(ChronicleWarmup.startFor("status", "status"));
        assertFalse(ChronicleWarmup.startFor(null, "--version"));
    }
}
