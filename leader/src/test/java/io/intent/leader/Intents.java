package io.intent.leader;

import io.intent.store.model.AppIntent;
import io.intent.testkit.Apps;

/** Small valid intents for leader tests. */
final class Intents {
    private Intents() {
    }

    static AppIntent app(int scale) {
        return Apps.app().scale(scale).build();
    }
}
