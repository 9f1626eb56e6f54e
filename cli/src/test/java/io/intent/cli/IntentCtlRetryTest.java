package io.intent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.api.ApiServer;
import io.intent.api.Role;
import io.intent.api.Tokens;
import io.intent.store.etcd.EtcdConfig;
import io.intent.store.etcd.EtcdStore;
import io.intent.store.model.AppIntent;
import io.intent.testkit.EtcdCluster;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * intentctl's retry of a write whose first attempt outlived the client's request timeout: the retry carries the
 * same Idempotency-Key, reaches the API while the first attempt still runs, and must end with the first attempt's
 * outcome (it was answered 409 "in progress", and intentctl failed although the write happened).
 */
class IntentCtlRetryTest {
    static final String OPERATOR = "operator-secret-retry";

    @Test
    void aWriteRetriedAfterTheClientTimedOutEndsWithTheFirstAttemptsOutcome() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (EtcdCluster etcd = EtcdCluster.single();
             EtcdStore store = EtcdStore.connect(EtcdConfig.of(etcd.endpoints()));
             ApiServer api = ApiServer.start(store, new Tokens(Map.of(Tokens.hash(OPERATOR),
                     new Tokens.Token("op", Role.OPERATOR, "test"))), ApiServer.Options.defaults().withPort(0)
                     .withExpectedAgents(List.of("setlive")))) {
            store.put(store.keys().app("web"), io.intent.store.codec.Json.read("{\"versions\":{\"1.0\":{"
                    + "\"artifact\":\"file:///srv/web-1.0.tgz\",\"sha256\":\"" + "a".repeat(64) + "\"}},"
                    + "\"active\":\"1.0\",\"run\":{\"command\":[\"bin/run\"]},\"scale\":1}", AppIntent.class));
            // etcd hangs (SIGSTOP) for longer than one request timeout: the restart's POST times out in the client,
            // which retries with the same Idempotency-Key while the API still waits on etcd for the first attempt
            String[] argv = {"restart", "web", "--api=" + api.url(), "--token=" + OPERATOR, "--request-timeout=1s"};
            etcd.pause(0);
            timer.schedule(() -> etcd.resume(0), 1600, TimeUnit.MILLISECONDS);
            CompletableFuture<Ctl.Run> run = CompletableFuture.supplyAsync(() -> Ctl.run(argv));
            Ctl.Run result = run.get(60, TimeUnit.SECONDS);
            assertEquals(0, result.code(), "exit code; out: " + result.out() + "\nerr: " + result.err());
            assertTrue(result.out().contains("app/web restart requested for every instance"), result.out());
            assertEquals(1L, store.get(store.keys().app("web"), AppIntent.class).orElseThrow().value().restart()
                    .generation(), "restarted exactly once");
        } finally {
            timer.shutdownNow();
        }
    }
}
