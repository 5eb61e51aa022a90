package dev.longconv.cli;

import java.io.PrintWriter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The tool's logging: the library logs through {@link System.Logger} (java.util.logging underneath here), and the
 * tool shows its records as single lines on stderr. By default only warnings and errors ({@code longconv: warning:
 * ...}); with {@code --verbose} also info and debug records (the backend choice, why a backend was skipped). Installed
 * for one run of the tool and removed after it, so the JVM's logging configuration is left as it was.
 */
final class CliLogging implements AutoCloseable {
    private static final String ROOT = "dev.longconv";
    private final Logger logger;
    private final Handler handler;
    private final Level oldLevel;
    private final boolean oldUseParent;

    private CliLogging(Logger logger, Handler handler) {
        this.logger = logger;
        this.handler = handler;
        this.oldLevel = logger.getLevel();
        this.oldUseParent = logger.getUseParentHandlers();
    }

    /** Sends the library's records to {@code err}: warnings and above, or everything from debug up when {@code verbose}. */
    static CliLogging install(PrintWriter err, boolean verbose) {
        Logger logger = Logger.getLogger(ROOT);
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (!isLoggable(r)) return;
                String msg = new java.util.logging.SimpleFormatter().formatMessage(r).replace('\n', ' ');
                String level = r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning: "
                        : r.getLevel().intValue() < Level.INFO.intValue() ? "debug: " : "";
                if (msg.startsWith("longconv: ")) msg = msg.substring("longconv: ".length());
                err.println(level.isEmpty() && msg.startsWith("longconv ") ? msg : "longconv: " + level + msg);
                err.flush();
            }

            @Override
            public void flush() {
                err.flush();
            }

            @Override
            public void close() {}
        };
        Level level = verbose ? Level.FINE : Level.WARNING;
        h.setLevel(level);
        CliLogging installed = new CliLogging(logger, h);
        logger.setLevel(level);
        logger.setUseParentHandlers(false);
        logger.addHandler(h);
        return installed;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(oldLevel);
        logger.setUseParentHandlers(oldUseParent);
    }
}
