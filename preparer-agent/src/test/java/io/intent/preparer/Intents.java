package io.intent.preparer;

import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.RunSpec;
import io.intent.store.model.VersionSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Assignments for tests: only the versions vary. */
final class Intents {
    static final String HOST = "h1";

    private Intents() {
    }

    static VersionSpec artifact(String url, String sha) {
        return new VersionSpec(url, sha, null, null);
    }

    static Map<String, VersionSpec> versions(Object... versionThenSpec) {
        Map<String, VersionSpec> m = new LinkedHashMap<>();
        for (int i = 0; i < versionThenSpec.length; i += 2) {
            m.put((String) versionThenSpec[i], (VersionSpec) versionThenSpec[i + 1]);
        }
        return m;
    }

    static Assignment process(String app, long rev, Map<String, VersionSpec> versions) {
        String active = versions.keySet().iterator().next();
        return new Assignment(app, HOST, rev, new AppIntent(versions, active,
                new RunSpec(List.of("bin/server"), Map.of(), null), List.of(), 1, null, null, null, null, null, null));
    }

    static Assignment docker(String app, long rev, Map<String, VersionSpec> versions) {
        String active = versions.keySet().iterator().next();
        return new Assignment(app, HOST, rev, new AppIntent(versions, active, null, List.of(), 1, null, null, null,
                AppIntent.RUNTIME_DOCKER, null, null));
    }
}
