package io.intent.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.testkit.JvmProcess;
import io.intent.testkit.Ports;
import org.junit.jupiter.api.Test;

/** A real intent-node JVM stops promptly on SIGTERM when etcd is gone, and its apps keep running. */
class NodeStopTest {
    @Test
    void sigtermEndsTheNodeWithinTenSecondsWhileEtcdIsGone() throws Exception {
        try (NodeFixture fx = new NodeFixture()) {
            int port = Ports.free();
            JvmProcess node = fx.startServing("web", port);
            long app = fx.appPid("web");

            fx.etcd.kill(0);
            long t0 = System.nanoTime();
            boolean exited = node.terminate(30);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(exited, "the node did not exit within 30 s of SIGTERM:\n" + node.output());
            assertTrue(secs <= 10, "the node took " + secs + " s to stop with etcd gone (at most 10 s):\n"
                    + node.output());
            assertEquals("1.0", NodeFixture.body(port), "the app serves after the node stopped");
            assertEquals(app, fx.appPid("web"), "the same app process");
            System.out.printf("stopped in %.2f s with etcd gone%n", secs);
        }
    }
}
