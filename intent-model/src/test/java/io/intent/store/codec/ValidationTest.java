package io.intent.store.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.model.AppIntent;
import io.intent.store.model.HostSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValidationTest {
    static final String SHA = "a".repeat(64);

    static String app(String body) {
        return "{\"versions\":{\"1.0\":{\"artifact\":\"https://repo.example/web-1.0.tar.gz\",\"sha256\":\"" + SHA
                + "\"}},\"active\":\"1.0\",\"run\":{\"command\":[\"bin/server\"]}" + body + "}";
    }

    static List<FieldError> errors(String name, String json) {
        return Validation.check(name, Json.read(json, AppIntent.class));
    }

    static List<String> fields(List<FieldError> errs) {
        return errs.stream().map(FieldError::field).toList();
    }

    @Test
    void aCompleteIntentIsValid() {
        String json = app(",\"ports\":[{\"name\":\"http\",\"port\":8080}],\"scale\":3,"
                + "\"resources\":{\"cpu\":0.5,\"memoryMb\":256},\"constraints\":{\"labels\":{\"zone\":\"a\"}},"
                + "\"health\":{\"http\":\"/healthz\",\"port\":\"http\"},\"runtime\":\"process\"");
        assertEquals(List.of(), errors("web", json));
    }

    @Test
    void namesMustBeDnsLabels() {
        for (String bad : new String[] {"Web", "../etc", "a/b", "-web", "web-", "", "a".repeat(64), "we b", "..",
            "web\n"}) {
            assertEquals(List.of("name"), fields(errors(bad, app(""))), "name '" + bad + "'");
        }
        assertTrue(errors("a".repeat(63), app("")).isEmpty());
    }

    @Test
    void portsMustBeInRangeAndUnique() {
        var errs = errors("web", app(",\"ports\":[{\"name\":\"http\",\"port\":8080},{\"name\":\"admin\","
                + "\"port\":70000},{\"name\":\"http\",\"port\":8080},{\"name\":\"dns\",\"port\":53,"
                + "\"protocol\":\"udp\"},{\"name\":\"x\",\"port\":0},{\"name\":\"y\",\"port\":1,\"protocol\":\"sctp\"}]"));
        assertEquals(List.of("ports[1].port", "ports[2].name", "ports[2].port", "ports[4].port", "ports[5].protocol"),
                fields(errs));
        assertTrue(errs.get(0).reason().contains("70000"), errs.get(0).reason());
    }

    @Test
    void sameNumberOnTcpAndUdpIsAllowed() {
        assertEquals(List.of(), errors("dns", app(",\"ports\":[{\"name\":\"t\",\"port\":53},"
                + "{\"name\":\"u\",\"port\":53,\"protocol\":\"udp\"}]")));
    }

    @Test
    void sha256MustBe64LowercaseHex() {
        for (String bad : new String[] {"abc", "A".repeat(64), "g".repeat(64), "a".repeat(65)}) {
            String json = "{\"versions\":{\"1\":{\"artifact\":\"file:///x.tar\",\"sha256\":\"" + bad + "\"}},"
                    + "\"active\":\"1\",\"run\":{\"command\":[\"x\"]}}";
            assertEquals(List.of("versions.1.sha256"), fields(errors("web", json)), bad);
        }
    }

    @Test
    void activeMustBeOneOfTheVersions() {
        String json = "{\"versions\":{\"1.0\":{\"artifact\":\"file:///x.tar\",\"sha256\":\"" + SHA + "\"}},"
                + "\"active\":\"2.0\",\"run\":{\"command\":[\"x\"]}}";
        var errs = errors("web", json);
        assertEquals(List.of("active"), fields(errs));
        assertTrue(errs.get(0).reason().contains("'2.0' is not one of versions [1.0]"), errs.get(0).reason());
    }

    @Test
    void scaleMustNotBeNegative() {
        assertEquals(List.of("scale"), fields(errors("web", app(",\"scale\":-1"))));
        assertEquals(List.of(), errors("web", app(",\"scale\":0")));
    }

    @Test
    void artifactSchemesAreHttpHttpsOrFile() {
        for (String bad : new String[] {"ftp://h/x.tar", "/srv/x.tar", "jar:file:/x!/y", "gopher://x/y",
            "https:///nohost.tar"}) {
            String json = "{\"versions\":{\"1\":{\"artifact\":\"" + bad + "\",\"sha256\":\"" + SHA + "\"}},"
                    + "\"active\":\"1\",\"run\":{\"command\":[\"x\"]}}";
            assertEquals(List.of("versions.1.artifact"), fields(errors("web", json)), bad);
        }
    }

    @Test
    void dockerTakesAnImageReferenceAndProcessDoesNot() {
        String docker = "{\"versions\":{\"1\":{\"image\":\"intent/web@sha256:" + SHA + "\"}},\"active\":\"1\","
                + "\"runtime\":\"docker\","
                + "\"ports\":[{\"name\":\"http\",\"port\":80}]}";
        assertEquals(List.of(), errors("web", docker));
        String process = "{\"versions\":{\"1\":{\"image\":\"intent/web:1\"}},\"active\":\"1\","
                + "\"run\":{\"command\":[\"x\"]}}";
        assertTrue(fields(errors("web", process)).contains("versions.1.image"));
        String archive = "{\"versions\":{\"1\":{\"artifact\":\"file:///w.tar\",\"sha256\":\"" + SHA
                + "\",\"format\":\"docker-archive\"}},\"active\":\"1\",\"runtime\":\"docker\"}";
        assertEquals(List.of(), errors("web", archive));
    }

    static String dockerImage(String version) {
        return "{\"versions\":{\"1\":" + version + "},\"active\":\"1\",\"runtime\":\"docker\"}";
    }

    @Test
    void anImageMustBePinnedByDigestUnlessTheIntentSaysOtherwise() {
        assertEquals(List.of(), errors("web", dockerImage("{\"image\":\"intent/web@sha256:" + SHA + "\"}")));
        assertEquals(List.of(), errors("web", dockerImage("{\"image\":\"reg.example:5000/web:1@sha256:" + SHA
                + "\"}")));
        for (String moving : new String[] {"intent/web:1", "intent/web", "intent/web@sha256:abc",
            "intent/web@sha256:" + SHA + "0", "intent/web@sha512:" + SHA + SHA}) {
            var errs = errors("web", dockerImage("{\"image\":\"" + moving + "\"}"));
            assertEquals(List.of("versions.1.image"), fields(errs), moving);
            assertTrue(errs.get(0).reason().contains("not pinned by digest")
                    && errs.get(0).reason().contains("versions.1.imagePinned: false"), errs.get(0).reason());
        }
        assertEquals(List.of(), errors("web", dockerImage("{\"image\":\"intent/web:1\",\"imagePinned\":false}")));
        assertEquals(List.of("versions.1.image"), fields(errors("web",
                dockerImage("{\"image\":\"intent/web:1\",\"imagePinned\":true}"))));
    }

    @Test
    void imagePinnedIsOnlyForAnImage() {
        var errs = errors("web", dockerImage("{\"artifact\":\"file:///w.tar\",\"sha256\":\"" + SHA
                + "\",\"format\":\"docker-archive\",\"imagePinned\":false}"));
        assertEquals(List.of("versions.1.imagePinned"), fields(errs));
        assertTrue(errs.get(0).reason().contains("only with image"), errs.get(0).reason());
    }

    @Test
    void versionNamesCannotEscapeTheInstallDirectory() {
        for (String bad : new String[] {"..", "../x", "a/b", ".hidden", "1..2"}) {
            String json = "{\"versions\":{\"" + bad + "\":{\"artifact\":\"file:///x.tar\",\"sha256\":\"" + SHA
                    + "\"}},\"active\":\"" + bad + "\",\"run\":{\"command\":[\"x\"]}}";
            assertTrue(fields(errors("web", json)).contains("versions." + bad), bad);
        }
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String json = "{\"versions\":{},\"active\":\"x\",\"scale\":-2,\"ports\":[{\"name\":\"h\",\"port\":-1}],"
                + "\"runtime\":\"vm\"}";
        var errs = errors("Bad", json);
        assertEquals(List.of("name", "runtime", "versions", "active", "scale", "run.command", "ports[0].port"),
                fields(errs));
        var ex = assertThrows(ValidationException.class, () -> Validation.require("Bad",
                Json.read(json, AppIntent.class)));
        assertEquals(7, ex.errors().size());
        assertTrue(ex.getMessage().startsWith("app Bad: name: "), ex.getMessage());
    }

    @Test
    void envAndWorkdirAreChecked() {
        var errs = errors("web", "{\"versions\":{\"1\":{\"artifact\":\"file:///x.tar\",\"sha256\":\"" + SHA
                + "\"}},\"active\":\"1\",\"run\":{\"command\":[\"x\"],\"env\":{\"1BAD\":\"v\",\"INTENT_APP\":\"x\"},"
                + "\"workdir\":\"../../etc\"}}");
        assertEquals(List.of("run.env.1BAD", "run.env.INTENT_APP", "run.workdir"),
                fields(errs).stream().sorted().toList());
    }

    @Test
    void sourcesMustBeCidrs() {
        var errs = errors("web", app(",\"ports\":[{\"name\":\"h\",\"port\":80,\"sources\":[\"10.0.0.0/8\","
                + "\"10.0.0.0/33\",\"300.1.1.1\",\"x\",\"192.168.1.1\"]}]"));
        assertEquals(List.of("ports[0].sources[1]", "ports[0].sources[2]", "ports[0].sources[3]"), fields(errs));
    }

    @Test
    void healthMustNameAPortOfTheApp() {
        var errs = errors("web", app(",\"ports\":[{\"name\":\"http\",\"port\":80}],"
                + "\"health\":{\"http\":\"healthz\",\"port\":\"admin\"}"));
        assertEquals(List.of("health.http", "health.port"), fields(errs));
    }

    @Test
    void hostSpecsAreChecked() {
        assertEquals(List.of(), Validation.check("h1", new HostSpec(java.util.Map.of("zone", "a"), null,
                "127.0.0.2", false)));
        var errs = Validation.check("H1", new HostSpec(java.util.Map.of("zone", "a b"), null, "localhost", null));
        assertEquals(List.of("name", "labels.zone", "address"), fields(errs));
    }
}
