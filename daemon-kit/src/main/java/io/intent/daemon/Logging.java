package io.intent.daemon;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Routes java.util.logging (gRPC's) into SLF4J. The format is chosen by LogConfigurator: human-readable by
 * default, one JSON object per line with {@code INTENT_LOG_FORMAT=json}.
 */
public final class Logging {
    private static volatile boolean done;

    private Logging() {
    }

    public static synchronized void init() {
        if (!done) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
            java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.INFO);
            done = true;
        }
    }
}
