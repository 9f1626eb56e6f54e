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
    void anAuthTokenThatCouldNotBeFetchedBecauseEtcdIsUnreachableIsTransient() {
        // what a write of a user with a password sees when its etcd member is partitioned away (seen in
        // ContainerEndToEndTest): jetcd's token request dies with the connection and it reports UNAUTHENTICATED
        var lost = new CompletionException(Status.UNAUTHENTICATED.withCause(Status.UNAVAILABLE
                .withDescription("Keepalive failed. The connection is likely gone").asRuntimeException())
                .asRuntimeException());
        assertTrue(Failures.isTransient(lost));
        assertFalse(Failures.isTransient(Status.UNAUTHENTICATED.withDescription("etcdserver: invalid auth token")
                .asRuntimeException()), "a token etcd refused is not a connection lost");
    }

    @Test
    void errorsAboutTheRequestAreNotTransient() {
        assertFalse(Failures.isTransient(Status.UNKNOWN.withDescription("etcdserver: request is too large")
                .asRuntimeException()));
        assertFalse(Failures.isTransient(Status.PERMISSION_DENIED.asRuntimeException()));
        assertFalse(Failures.isTransient(Status.INVALID_ARGUMENT.asRuntimeException()));
    }
}
