package io.intent.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoArtifactsTest {
    @TempDir
    Path dir;

    static Path repo() {
        return Path.of("").toAbsolutePath().getParent();
    }

    @Test
    void theArtifactsAreReproducibleAndMatchTheDemoIntents() throws Exception {
        Map<String, String> first = DemoArtifacts.build(repo().resolve("test-data/demo-app"), dir.resolve("a"));
        Map<String, String> second = DemoArtifacts.build(repo().resolve("test-data/demo-app"), dir.resolve("b"));
        assertEquals(first, second, "two builds must give the same bytes");

        Map<String, AppIntent> intents = Demo.loadIntents(repo().resolve("test-data/demo"));
        assertTrue(intents.containsKey("web"));
        for (AppIntent app : intents.values()) {
            app.versions().forEach((v, spec) -> {
                String file = spec.artifact().substring(spec.artifact().lastIndexOf('/') + 1);
                assertEquals(first.get(file), spec.sha256(), "test-data/demo lists a stale sha256 for " + file
                        + ": update it to what the build makes");
            });
        }
    }
}
