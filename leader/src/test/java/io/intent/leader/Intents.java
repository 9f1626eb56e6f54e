package io.intent.leader;

import io.intent.store.model.AppIntent;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.util.List;
import java.util.Map;

/** Small valid intents for leader tests. */
final class Intents {
    private Intents() {
    }

    static AppIntent app(int scale) {
        return new AppIntent(Map.of("1.0", new VersionSpec("file:///srv/app-1.0.tar.gz", "a".repeat(64), null, null)),
                "1.0", new RunSpec(List.of("bin/server"), Map.of(), null), List.of(), scale, null, null, null, null,
                null, null);
    }
}
