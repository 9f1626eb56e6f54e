package io.intent.store.etcd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The classification of jetcd's failures, as the pure function it is. */
class FailuresTest {
    @Test
    void aCallInFlightWhenEtcdDiesIsTransient() {
        // what a get sees when etcd is SIGKILLed under it (seen in StoreOutageTest)
        var closed = new CompletionException(Status.UNKNOWN.withDescription("channel closed").asRuntimeException());
        assertTrue(Failures.isTransient(closed));
        assertTrue(Failures.isTransient(Status.UNKNOWN.withDescription("etcdserver: leader changed")
                .asRuntimeException()));
        assertTrue(Failures.isTransient(Status.UNAVAILABLE.asRuntimeException()));
    }

    @Test
    void errorsAboutTheRequestAreNotTransient() {
        assertFalse(Failures.isTransient(Status.UNKNOWN.withDescription("etcdserver: request is too large")
                .asRuntimeException()));
        assertFalse(Failures.isTransient(Status.PERMISSION_DENIED.asRuntimeException()));
        assertFalse(Failures.isTransient(Status.INVALID_ARGUMENT.asRuntimeException()));
    }
}
