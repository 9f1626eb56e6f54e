package io.intent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.intent.store.codec.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code intentctl channel set|get|list|follow}: release channels, and making an app follow one. */
@Command(name = "channel", mixinStandardHelpOptions = true, description = "Release channels.",
        subcommands = {ChannelCommand.Set.class, ChannelCommand.Get.class, ChannelCommand.List.class,
            ChannelCommand.Follow.class})
final class ChannelCommand {
    @ParentCommand
    IntentCtl root;

    /** Points a channel at a version (creating it), or sets its HTTPS feed. */
    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Point channel NAME at VERSION with its artifact and sha256 (or image), or feed it from an",
                "HTTPS manifest the leader polls. Every app following NAME moves through the ordinary rollout."})
    static final class Set implements Callable<Integer> {
        @ParentCommand
        ChannelCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", arity = "0..1", paramLabel = "VERSION")
        String version;

        @Option(names = "--artifact", paramLabel = "URL")
        String artifact;

        @Option(names = "--sha256", paramLabel = "HEX")
        String sha256;

        @Option(names = "--image", paramLabel = "REF")
        String image;

        @Option(names = "--format", paramLabel = "FORMAT")
        String format;

        @Option(names = "--feed", paramLabel = "URL", description = "https URL of a JSON manifest the leader polls")
        String feed;

        @Option(names = "--ca", paramLabel = "FILE", description = "PEM CA file (on the leader's hosts) for --feed")
        String ca;

        @Override
        public Integer call() {
            ObjectNode body = Json.mapper().createObjectNode();
            putIf(body, "version", version);
            putIf(body, "artifact", artifact);
            putIf(body, "sha256", sha256);
            putIf(body, "image", image);
            putIf(body, "format", format);
            putIf(body, "feed", feed);
            putIf(body, "ca", ca);
            JsonNode r = parent.root.client().put("/v1/channels/" + ApiClient.enc(name), body, null).body();
            parent.root.say("channel/" + name + (version == null ? "" : " -> " + version)
                    + (feed == null ? "" : " fed from " + feed) + " (revision " + r.path("revision").asLong() + ")");
            return 0;
        }

        private static void putIf(ObjectNode n, String field, String value) {
            if (value != null) {
                n.put(field, value);
            }
        }
    }

    /** Prints one channel and the leader's status of it, as JSON. */
    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show channel NAME and its status (JSON).")
    static final class Get implements Callable<Integer> {
        @ParentCommand
        ChannelCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            JsonNode r = parent.root.client().get("/v1/channels/" + ApiClient.enc(name)).body();
            parent.root.say(Json.writePretty(r));
            return 0;
        }
    }

    /** One line per channel: name, version, status and followers. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List channels, their versions and states.")
    static final class List implements Callable<Integer> {
        @ParentCommand
        ChannelCommand parent;

        @Override
        public Integer call() {
            JsonNode r = parent.root.client().get("/v1/channels").body();
            var out = parent.root.out();
            out.printf("%-20s %-16s %-8s %s%n", "CHANNEL", "VERSION", "STATE", "FOLLOWERS / MESSAGE");
            for (JsonNode c : r.path("channels")) {
                JsonNode st = c.path("status");
                String version = c.path("channel").path("version").asText("-");
                String state = c.has("error") ? "FAILED" : st.path("phase").asText("-");
                java.util.List<String> names = new java.util.ArrayList<>();
                st.path("followers").forEach(f -> names.add(f.asText()));
                String followers = String.join(",", names);
                String message = c.has("error") ? c.path("error").asText() : st.path("message").asText("");
                out.printf("%-20s %-16s %-8s %s%s%n", c.path("name").asText(), version, state,
                        followers.isEmpty() ? "" : followers + " / ", message);
            }
            out.flush();
            return 0;
        }
    }

    /** Makes APP follow a channel (again): writes a fresh channel block, the leader adopts the channel's version. */
    @Command(name = "follow", mixinStandardHelpOptions = true,
            description = {"Make APP follow channel NAME (also: follow again after a failed rollout stopped it)."})
    static final class Follow implements Callable<Integer> {
        @ParentCommand
        ChannelCommand parent;

        @Parameters(index = "0", paramLabel = "APP")
        String app;

        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            var r = DeployCommand.Edit.intent(parent.root, app, i -> {
                ObjectNode block = Json.mapper().createObjectNode();
                block.put("follow", name);
                i.set("channel", block);
            });
            parent.root.say("app/" + app + " follows channel " + name + " (revision "
                    + r.path("revision").asLong() + ")");
            return 0;
        }
    }
}
