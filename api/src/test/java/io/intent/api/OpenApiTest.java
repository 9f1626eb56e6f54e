package io.intent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.intent.store.codec.Json;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** openapi.json, as the API serves it, describes exactly the routes the API's router serves. */
class OpenApiTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    @Test
    void openapiListsEveryRouteTheApiServesAndNoOther() throws Exception {
        try (ApiFixture f = new ApiFixture()) {
            var served = f.get("/v1/openapi.json", null);
            assertEquals(200, served.statusCode());
            JsonNode doc = Json.tree(served.body().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            Set<String> documented = new TreeSet<>();
            doc.path("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> {
                if (METHODS.contains(m)) {
                    documented.add(m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey());
                }
            }));
            Set<String> routes = new TreeSet<>(f.api.routes());
            assertTrue(routes.size() > 20, "the router's routes were read: " + routes);

            Set<String> undocumented = new TreeSet<>(routes);
            undocumented.removeAll(documented);
            Set<String> notServed = new TreeSet<>(documented);
            notServed.removeAll(routes);
            assertEquals(List.of(), List.copyOf(undocumented), "served but missing from openapi.json");
            assertEquals(List.of(), List.copyOf(notServed), "in openapi.json but not served");
        }
    }
}
