package io.intent.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.intent.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import picocli.CommandLine;

/**
 * {@code ./intent demo --containers}: etcd and the three hosts as containers, the demo intents loaded, converged (every
 * instance answering from its container's address on this machine, through its host's firewall), then stopped
 * with nothing left behind.
 */
class DemoContainersTest {
    @Test
    void theDemoConvergesOnContainerHostsAndRemovesThemWhenItStops() throws Exception {
        Path state = Files.createTempDirectory("intent-demo-containers-");
        int code = new CommandLine(new Demo()).execute("--containers", "--exit-when-converged",
                "--timeout", "150", "--api-port", Integer.toString(Ports.free()), "--state-dir", state.toString());
        assertEquals(0, code, "the demo did not converge on container hosts; logs in " + state.resolve("logs"));
        String mine = "intent-" + ProcessHandle.current().pid() + "-";
        List<String> left = DockerClientFactory.instance().client().listContainersCmd().withShowAll(true).exec()
                .stream().flatMap(c -> java.util.Arrays.stream(c.getNames())).filter(n -> n.startsWith("/" + mine))
                .toList();
        assertEquals(List.of(), left, "containers the demo left behind");
    }
}
