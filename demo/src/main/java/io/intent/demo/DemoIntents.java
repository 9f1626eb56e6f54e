package io.intent.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.intent.store.codec.Json;
import io.intent.store.codec.Validation;
import io.intent.store.model.AppIntent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the demo intents: every {@code *.yaml} in a folder, each document an AppIntent plus its
 * {@code name} (the same shape {@code intentctl apply -f} takes). Every intent is validated.
 */
final class DemoIntents {
    private DemoIntents() {
    }

    static Map<String, AppIntent> load(Path dir) throws IOException {
        Map<String, AppIntent> apps = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                for (var doc : Json.readYamlDocuments(Files.readString(f))) {
                    if (!(doc instanceof ObjectNode obj) || !obj.hasNonNull("name")) {
                        throw new IllegalArgumentException(f + ": every document needs a 'name'");
                    }
                    String name = obj.remove("name").asText();
                    apps.put(name, Validation.require(name, Json.convert(obj, AppIntent.class)));
                }
            }
        }
        return apps;
    }
}
