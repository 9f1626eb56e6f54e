package io.intent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The apply/plan file format, as a pure parser. */
class ManifestTest {
    static final String WEB = "name: web\nversions: {\"1.0\": {artifact: \"file:///a.tgz\", sha256: \"" + "a".repeat(64)
            + "\"}}\nactive: \"1.0\"\nrun: {command: [bin/web]}\n";

    @Test
    void severalYamlDocumentsAreSeveralApps() {
        var m = Manifest.parse(WEB + "---\n" + WEB.replace("name: web", "name: api") + "---\nkind: host\nname: h1\n"
                + "drain: true\n");
        assertEquals(java.util.Set.of("web", "api"), m.apps().keySet());
        assertEquals("1.0", m.apps().get("web").active());
        assertTrue(m.hosts().get("h1").drainOrDefault());
    }

    @Test
    void aMapOfAppsByNameWorksInYamlAndJson() {
        var yaml = Manifest.parse("apps:\n  web: {active: \"1.0\", scale: 2}\n  api: {active: \"2.0\"}\n");
        assertEquals(2, yaml.apps().get("web").scale());
        var json = Manifest.parse("{\"apps\": {\"web\": {\"active\": \"1.0\"}}, \"hosts\": {\"h1\": {\"drain\": false}}}");
        assertEquals("1.0", json.apps().get("web").active());
        assertEquals(1, json.hosts().size());
        var list = Manifest.parse("[{\"name\": \"a\", \"scale\": 1}, {\"name\": \"b\", \"scale\": 2}]");
        assertEquals(2, list.apps().size());
    }

    @Test
    void mistakesAreErrorsNamingTheDocumentAndField() {
        var unknown = assertThrows(CtlException.class, () -> Manifest.parse(WEB + "---\nname: api\nsclae: 3\n"));
        assertTrue(unknown.getMessage().contains("document 2") && unknown.getMessage().contains("sclae"),
                unknown.getMessage());
        var twice = assertThrows(CtlException.class, () -> Manifest.parse(WEB + "---\n" + WEB));
        assertTrue(twice.getMessage().contains("twice"));
        var nameless = assertThrows(CtlException.class, () -> Manifest.parse("active: \"1.0\"\n"));
        assertTrue(nameless.getMessage().contains("document 1"));
        assertThrows(CtlException.class, () -> Manifest.parse(""));
        assertThrows(CtlException.class, () -> Manifest.parse("name: [\n"));
        assertThrows(CtlException.class, () -> Manifest.parse("kind: pod\nname: x\n"));
    }

    @Test
    void whatGetPrintsIsAcceptedBackWithItsReadOnlyFieldsDropped() {
        var one = Manifest.parse("name: web\nrevision: 42\nintent:\n  active: \"1.0\"\n  scale: 3\nerror: null\n");
        assertEquals(3, one.apps().get("web").scale());
        var list = Manifest.parse("revision: 50\napps:\n- name: web\n  revision: 42\n  intent: {active: \"1.0\"}\n"
                + "- name: api\n  revision: 43\n  intent: {active: \"2.0\"}\n");
        assertEquals(java.util.Set.of("web", "api"), list.apps().keySet());
        var hosts = Manifest.parse("revision: 9\nhosts:\n- name: h1\n  revision: 3\n  spec: {drain: true}\n"
                + "  live: {host: h1, pid: 7}\n");
        assertTrue(hosts.hosts().get("h1").drainOrDefault());
        var host = Manifest.parse("{\"name\": \"h2\", \"revision\": 3, \"spec\": {\"labels\": {\"zone\": \"a\"}}}");
        assertEquals("a", host.hosts().get("h2").labels().get("zone"));
    }

    @Test
    void aGetDocumentWithAnInvalidStoredValueOrAStrayFieldIsRefused() {
        var invalid = assertThrows(CtlException.class, () -> Manifest.parse("name: web\nrevision: 4\nintent: null\n"
                + "error: \"unknown field sclae\"\nraw: \"{}\"\n"));
        assertTrue(invalid.getMessage().contains("invalid") && invalid.getMessage().contains("sclae"),
                invalid.getMessage());
        var stray = assertThrows(CtlException.class, () -> Manifest.parse("name: web\nintent: {active: \"1.0\"}\n"
                + "scale: 2\n"));
        assertTrue(stray.getMessage().contains("'scale'"), stray.getMessage());
    }
}
