package dev.holdfast.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** "holdfast VERSION" for every command's --version, the version being the pom's (version.properties, filtered). */
final class HoldfastVersion implements CommandLine.IVersionProvider {

    /** The pom's version of this build. */
    static String version() {
        Properties p = new Properties();
        try (InputStream in = HoldfastVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("version.properties is missing from the build");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    @Override
    public String[] getVersion() {
        return new String[]{"holdfast " + version()};
    }
}
