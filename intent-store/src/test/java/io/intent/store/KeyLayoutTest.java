package io.intent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.store.codec.InvalidValueException;
import io.intent.store.codec.Names;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class KeyLayoutTest {
    final KeyLayout keys = KeyLayout.defaults();

    @Test
    void keysFollowTheDocumentedLayout() {
        assertEquals("/intent/apps/web", keys.app("web"));
        assertEquals("/intent/hosts/h1", keys.host("h1"));
        assertEquals("/intent/live/h1", keys.live("h1"));
        assertEquals("/intent/assign/h1/", keys.assignSlice("h1"));
        assertEquals("/intent/assign/h1/web", keys.assignment("h1", "web"));
        assertEquals("/intent/placement/web", keys.placement("web"));
        assertEquals("/intent/status/h1/web/preparer", keys.status("h1", "web", "preparer"));
        assertEquals("/intent/endpoints/h1/web", keys.endpoint("web", "h1"));
        assertEquals("/intent/registration/h1", keys.registration("h1"));
        assertEquals("/intent/rollout/h1/web", keys.rolloutRequest("h1", "web"));
        assertEquals("/intent/slots/h1/web", keys.slot("h1", "web"));
    }

    @Test
    void theRootIsConfigurable() {
        assertEquals("/prod/intent/apps/web", new KeyLayout("/prod/intent").app("web"));
        for (String bad : new String[] {"intent", "/intent/", "/a/../b", "/a//b"}) {
            assertThrows(IllegalArgumentException.class, () -> new KeyLayout(bad), bad);
        }
    }

    @Test
    void hostileNamesNeverBecomeKeys() {
        assertThrows(InvalidValueException.class, () -> keys.app("../hosts/h1"));
        assertThrows(InvalidValueException.class, () -> keys.assignment("h1/../h2", "web"));
        assertThrows(InvalidValueException.class, () -> keys.app(""));
    }

    @Test
    void childNameIsOnlyTheDirectChild() {
        assertEquals("web", KeyLayout.childName("/intent/assign/h1/", "/intent/assign/h1/web"));
        assertNull(KeyLayout.childName("/intent/assign/h1/", "/intent/assign/h1/web/x"));
        assertNull(KeyLayout.childName("/intent/assign/h1/", "/intent/assign/h10/web"));
    }

    @Property
    void everyAcceptedNameStaysInsideItsPrefix(@ForAll String name) {
        if (Names.valid(name)) {
            String key = keys.app(name);
            assertEquals(name, KeyLayout.childName(keys.appsPrefix(), key));
            assertTrue(!name.contains("/") && !name.contains(".."));
        } else {
            assertThrows(InvalidValueException.class, () -> keys.app(name));
        }
    }
}
