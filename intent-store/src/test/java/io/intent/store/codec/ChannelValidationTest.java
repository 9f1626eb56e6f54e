package io.intent.store.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.KeyLayout;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Channel;
import io.intent.store.model.ChannelFollow;
import io.intent.store.model.ChannelManifest;
import io.intent.store.model.RunSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of release channels, their feed manifests and an app's channel block. */
class ChannelValidationTest {
    private static final String SHA = "a".repeat(64);

    private static List<String> errors(String name, Channel c) {
        return Validation.check(name, c).stream().map(FieldError::toString).toList();
    }

    @Test
    void aChannelWithVersionArtifactAndSha256IsValid() {
        assertEquals(List.of(), errors("stable", new Channel("2.0", "https://r/web-2.0.tar.gz", SHA, null, null, null,
                null, null)));
        assertEquals(List.of(), errors("stable", new Channel(null, null, null, null, null, null,
                "https://feeds.example/stable.json", "/etc/intent/tls/feed-ca.pem")));
    }

    @Test
    void aChannelPointingAtAVersionWithoutSha256IsRefusedNamingTheField() {
        assertEquals(List.of("sha256: required with artifact"),
                errors("stable", new Channel("2.0", "https://r/web-2.0.tar.gz", null, null, null, null, null, null)));
    }

    @Test
    void aChannelNameThatIsNotADnsLabelIsRefusedAndBuildsNoKey() {
        assertEquals(List.of("name: 'Stable_1' is not a DNS label (lowercase letters, digits and '-', starting and "
                        + "ending with a letter or digit)"),
                errors("Stable_1", new Channel("2.0", "https://r/x.tgz", SHA, null, null, null, null, null)));
        assertThrows(InvalidValueException.class, () -> KeyLayout.defaults().channel("../apps/web"));
        assertEquals("/intent/channels/stable", KeyLayout.defaults().channel("stable"));
        assertEquals("/intent/channel-status/stable", KeyLayout.defaults().channelStatus("stable"));
    }

    @Test
    void aFeedMustBeHttpsAndACaNeedsAFeed() {
        assertEquals(List.of("feed: must be an https:// URL with a host: 'http://feeds.example/s.json'"),
                errors("stable", new Channel(null, null, null, null, null, null, "http://feeds.example/s.json", null)));
        assertEquals(List.of("ca: only with feed"),
                errors("stable", new Channel("2.0", "https://r/x.tgz", SHA, null, null, null, null, "/ca.pem")));
        assertEquals(List.of("version: required (or feed)"),
                errors("stable", new Channel(null, null, null, null, null, null, null, null)));
    }

    @Test
    void aManifestNeedsAVersionAndTheSameRulesAsAVersion() {
        assertEquals(List.of(new FieldError("version", "required")),
                Validation.check(new ChannelManifest(null, "https://r/x.tgz", SHA, null, null, null)));
        assertEquals(List.of(new FieldError("sha256", "must be 64 lowercase hex characters")),
                Validation.check(new ChannelManifest("2.0", "https://r/x.tgz", "ABC", null, null, null)));
        assertTrue(Validation.check(new ChannelManifest("2.0", "https://r/x.tgz", SHA, null, null, null)).isEmpty());
        InvalidValueException notJson = assertThrows(InvalidValueException.class,
                () -> Json.read("<html>stable</html>", ChannelManifest.class));
        assertTrue(notJson.getMessage().startsWith("malformed JSON"), notJson.getMessage());
    }

    @Test
    void anAppFollowingAChannelMayOmitActiveAndVersionsButNeedsAValidChannelName() {
        RunSpec run = new RunSpec(List.of("bin/server"), Map.of(), null);
        AppIntent follower = new AppIntent(Map.of(), null, run, List.of(), 1, null, null, null, null, null, null,
                ChannelFollow.of("stable"));
        assertEquals(List.of(), Validation.check("web", follower));
        AppIntent badName = follower.withChannel(ChannelFollow.of("Stable"));
        assertEquals(List.of("channel.follow: 'Stable' is not a DNS label (lowercase letters, digits and '-', "
                + "starting and ending with a letter or digit)"),
                Validation.check("web", badName).stream().map(FieldError::toString).toList());
        AppIntent plain = follower.withChannel(null);
        assertEquals(List.of("versions: must list at least one version", "active: required (or channel.follow)"),
                Validation.check("web", plain).stream().map(FieldError::toString).toList());
    }
}
