package io.intent.setlive;

/** Where a log stream's bytes go: a response, a test's buffer. */
public interface LogSink {
    /** Writes a chunk; false when the reader is gone (stop reading). */
    boolean write(byte[] chunk, int length) throws InterruptedException;
}
