package io.intent.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code intentctl deploy APP VERSION}: sets the active version, guarded by the app's ETag. */
@Command(name = "deploy", mixinStandardHelpOptions = true,
        description = "Make VERSION (already listed in the app's versions) the active one; nothing else changes.")
final class DeployCommand extends CtlCommand {
    @Parameters(index = "0", paramLabel = "APP")
    String app;

    @Parameters(index = "1", paramLabel = "VERSION")
    String version;

    @Override
    public Integer call() {
        var r = Edit.intent(root, app, i -> {
            if (!i.path("versions").has(version)) {
                throw new CtlException(1, "version " + version + " is not listed in app " + app + "'s versions");
            }
            i.put("active", version);
        });
        root.say("app/" + app + " active " + version + " (revision " + r.path("revision").asLong() + ")");
        return 0;
    }

    /** Read-modify-write of one resource with If-Match, so a concurrent change is never overwritten. */
    static final class Edit {
        private Edit() {
        }

        static com.fasterxml.jackson.databind.JsonNode intent(IntentCtl root, String app,
                                                              java.util.function.Consumer<ObjectNode> change) {
            return edit(root, "/v1/apps/" + ApiClient.enc(app), "intent", change);
        }

        static com.fasterxml.jackson.databind.JsonNode edit(IntentCtl root, String path, String field,
                                                            java.util.function.Consumer<ObjectNode> change) {
            ApiClient api = root.client();
            var cur = api.get(path);
            if (!cur.body().path(field).isObject()) {
                throw new CtlException(1, path + " is unreadable in etcd; fix it with apply");
            }
            ObjectNode value = cur.body().path(field).deepCopy();
            change.accept(value);
            return api.put(path, value, cur.etag()).body();
        }
    }
}
