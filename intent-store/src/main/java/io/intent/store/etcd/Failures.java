package io.intent.store.etcd;

import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Classifies jetcd failures. jetcd's exception types are not uniform (EtcdException, raw gRPC status
 * exceptions, wrapped in CompletionException), so this walks the cause chain once, here.
 */
public final class Failures {
    private Failures() {
    }

    /** etcd unreachable, leaderless or slow: worth retrying, and says nothing about the data. */
    public static boolean isTransient(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) {
                return true;
            }
            Status.Code code = grpcCode(c);
            if (code == Status.Code.UNAUTHENTICATED && c.getCause() != null) {
                // jetcd reports a token it could not fetch as UNAUTHENTICATED, the real failure as the cause:
                // a connection lost to a partitioned member is transient, a refused password is not
                continue;
            }
            if (code != null) {
                return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED
                        || code == Status.Code.ABORTED || code == Status.Code.RESOURCE_EXHAUSTED
                        || (code == Status.Code.UNKNOWN && transientUnknown(String.valueOf(c.getMessage())));
            }
            if (c instanceof EtcdException e && e.getErrorCode() != null) {
                String n = e.getErrorCode().name();
                return n.equals("UNAVAILABLE") || n.equals("DEADLINE_EXCEEDED") || n.equals("ABORTED");
            }
            if (c instanceof java.io.IOException || c instanceof java.nio.channels.ClosedChannelException) {
                return true;
            }
        }
        return false;
    }

    /**
     * gRPC reports some connection losses as UNKNOWN (a call in flight when etcd dies gets "channel closed"),
     * and etcd reports a leader change so: both say nothing about the data.
     */
    private static boolean transientUnknown(String message) {
        return message.contains("leader") || message.contains("channel closed")
                || message.contains("Connection closed") || message.contains("Connection reset");
    }

    /** The watch or read asked for a revision etcd has compacted away: relist. */
    public static boolean isCompacted(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CompactedException) {
                return true;
            }
            if (grpcCode(c) == Status.Code.OUT_OF_RANGE) {
                return true;
            }
        }
        return false;
    }

    /** etcd refused the user this operation (its role lacks the key): retrying cannot help. */
    public static boolean isPermissionDenied(Throwable t) {
        return hasCode(t, Status.Code.PERMISSION_DENIED);
    }

    public static boolean isNotFound(Throwable t) {
        return hasCode(t, Status.Code.NOT_FOUND);
    }

    /** Whether {@code t} or a cause carries {@code code}, as a gRPC status or as jetcd's error code of that name. */
    private static boolean hasCode(Throwable t, Status.Code code) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (grpcCode(c) == code) {
                return true;
            }
            if (c instanceof EtcdException e && e.getErrorCode() != null
                    && e.getErrorCode().name().equals(code.name())) {
                return true;
            }
        }
        return false;
    }

    static Status.Code grpcCode(Throwable c) {
        if (c instanceof StatusRuntimeException s) {
            return s.getStatus().getCode();
        }
        if (c instanceof StatusException s) {
            return s.getStatus().getCode();
        }
        return null;
    }

    /** Strips CompletionException/ExecutionException wrappers. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** A short one-line description for status messages and logs. */
    public static String describe(Throwable t) {
        Throwable c = unwrap(t);
        String m = c.getMessage();
        return c.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }
}
