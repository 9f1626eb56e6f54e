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
}
