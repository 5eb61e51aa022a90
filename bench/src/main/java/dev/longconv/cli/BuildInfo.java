package dev.longconv.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version and commit the tool was built from, read from {@code build.properties}, which the build writes
 * (bench/pom.xml: the project version and {@code git rev-parse HEAD}, with {@code -dirty} for uncommitted changes).
 */
final class BuildInfo implements IVersionProvider {
    static final String RESOURCE = "/dev/longconv/cli/build.properties";

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}; "unknown" when the resource is missing (a build without Maven). */
    static String version() {
        return properties().getProperty("version", "unknown");
    }

    /** The abbreviated commit, with {@code -dirty} when the tree had uncommitted changes; "unknown" outside a git checkout. */
    static String commit() {
        return properties().getProperty("commit", "unknown");
    }

    private static Properties properties() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            // unreadable: reported as unknown
        }
        return p;
    }

    @Override
    public String[] getVersion() {
        Runtime.Version v = Runtime.version();
        return new String[] {"longconv " + version() + " (commit " + commit() + ")",
                "JDK " + v + " (" + System.getProperty("java.vendor") + ")"};
    }
}
