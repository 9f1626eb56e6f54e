package io.intent.dispatcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.intent.dispatcher.PlanLoop.Stage;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** The dispatcher's stages as a pure function: what a doubtful store view and a store read do to each. */
class PlanLoopStageTest {

    @Test
    void aTermPlansOnlyWhileItsViewOfTheStoreIsIn() {
        assertEquals(EnumSet.of(Stage.FIRST_PLAN, Stage.PLANNING),
                EnumSet.copyOf(EnumSet.allOf(Stage.class).stream().filter(Stage::storeIn).toList()));
    }

    @Test
    void aDoubtfulStoreViewIsReadAgainBeforeTheNextPlanAndAfterTheReadThePlanningGoesOnAsBefore() {
        for (Stage s : Stage.values()) {
            Stage doubted = s.inDoubt();
            assertFalse(doubted.storeIn(), s + " in doubt still plans");
            if (s.storeIn()) {
                assertEquals(s, doubted.read(), s + " in doubt, then read");
            }
        }
        assertEquals(Stage.READING, Stage.FIRST_PLAN.inDoubt());
        assertEquals(Stage.REREADING, Stage.PLANNING.inDoubt());
    }

    @Test
    void aStandbyIsNotMovedByStoreReadsOrDoubts() {
        for (Stage s : EnumSet.of(Stage.COLD, Stage.WARM)) {
            assertEquals(s, s.inDoubt());
            assertEquals(s, s.read());
            assertFalse(s.storeIn());
        }
    }

    @Test
    void aTermsFirstReadLeadsToItsFirstPlan() {
        assertEquals(Stage.FIRST_PLAN, Stage.READING.read());
        assertEquals(Stage.PLANNING, Stage.REREADING.read());
        assertTrue(Stage.READING.read().storeIn());
    }
}
