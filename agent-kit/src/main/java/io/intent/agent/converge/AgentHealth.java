package io.intent.agent.converge;

import io.intent.daemon.AgentServer;
import java.time.Instant;
import java.util.List;

/** The {@code /healthz} and {@code /readyz} verdicts of an agent process, from its convergers. */
final class AgentHealth {
    private AgentHealth() {
    }

    static AgentServer.Health health(List<? extends Converger<?>> convergers) {
        boolean ok = true;
        StringBuilder sb = new StringBuilder("{\"agents\":{");
        for (int i = 0; i < convergers.size(); i++) {
            var c = convergers.get(i);
            Instant contact = c.lastStoreContact();
            ok &= c.isRunning();
            sb.append(i == 0 ? "" : ",").append('"').append(c.agent()).append("\":{\"running\":")
                    .append(c.isRunning()).append(",\"lastStoreContact\":\"").append(contact)
                    .append("\",\"reconciles\":").append(c.reconciles()).append('}');
        }
        sb.append("},\"status\":\"").append(ok ? "ok" : "stopped").append("\"}");
        return new AgentServer.Health(ok, sb.toString());
    }

    /** Ready once every agent has read its slice and reconciled each name in it once. */
    static AgentServer.Health readiness(List<? extends Converger<?>> convergers) {
        boolean ok = !convergers.isEmpty();
        StringBuilder sb = new StringBuilder("{\"agents\":{");
        for (int i = 0; i < convergers.size(); i++) {
            var c = convergers.get(i);
            boolean ready = c.isRunning() && c.firstSyncDone();
            ok &= ready;
            sb.append(i == 0 ? "" : ",").append('"').append(c.agent()).append("\":{\"firstSyncDone\":")
                    .append(c.firstSyncDone()).append('}');
        }
        sb.append("},\"status\":\"").append(ok ? "ready" : "not ready").append("\"}");
        return new AgentServer.Health(ok, sb.toString());
    }
}
