package io.intent.setlive;

/**
 * How much of an app's output a host keeps: svlogd rotates {@code current} once it reaches {@code maxBytes} and
 * keeps {@code files} rotated files (so at most about {@code (files + 1) * maxBytes} per app); Docker's json-file
 * driver gets the same limits as {@code max-size} and {@code max-file}.
 */
public record LogLimits(long maxBytes, int files) {
    public static final LogLimits DEFAULT = new LogLimits(1_000_000, 10);

    public LogLimits {
        if (maxBytes < 4096) {
            throw new IllegalArgumentException("--log-max-bytes must be at least 4096, not " + maxBytes);
        }
        if (files < 1 || files > 1000) {
            throw new IllegalArgumentException("--log-files must be between 1 and 1000, not " + files);
        }
    }

    /** svlogd's {@code config} file: rotate at {@code s} bytes, keep {@code n} old files. */
    public String svlogdConfig() {
        return "s" + maxBytes + "\nn" + files + "\n";
    }
}
