package io.intent.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * intent's logging set-up, in code rather than a logback.xml: reading XML loads logback's configuration model and
 * the JDK's XML parser (some 450 classes, about 4 MB of a node's memory) for six lines of settings. Logs go to
 * stderr, human-readable by default or one JSON object per line with {@code INTENT_LOG_FORMAT=json};
 * {@code INTENT_LOG_LEVEL} sets the level. A {@code -Dlogback.configurationFile} still wins.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** Libraries that say too much at INFO. */
    private static final String[] QUIET = {"io.grpc", "io.netty", "io.vertx", "io.etcd.jetcd", "com.github.dockerjava",
        "org.testcontainers"};
    /** %X: the whole MDC as key=value pairs (e.g. [requestId=42]), as the JSON format's "mdc" object. */
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20}%replace( [%X]){' \\[\\]', ''}"
            + " - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName("json".equals(System.getenv("INTENT_LOG_FORMAT")) ? "json" : "text");
        appender.setTarget("System.err");
        appender.setEncoder(encoder(context, appender.getName()));
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getenv("INTENT_LOG_LEVEL"), Level.INFO));
        root.addAppender(appender);
        for (String name : QUIET) {
            context.getLogger(name).setLevel(Level.WARN);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
        if (format.equals("json")) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithMDC(true);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(PATTERN);
        text.start();
        return text;
    }
}
