package io.intent.api.status;

import io.intent.store.etcd.Entry;
import io.intent.store.model.AgentStatus;
import io.intent.store.model.AppIntent;
import io.intent.store.model.Assignment;
import io.intent.store.model.HostSpec;
import io.intent.store.model.Liveness;
import io.intent.store.model.Placement;
import java.util.Map;

/**
 * Everything the status model reads, taken from etcd at one revision.
 *
 * @param assignments host -> app -> assignment
 * @param statuses    host -> app -> agent -> status
 */
public record Observed(long revision,
                       Map<String, Entry<AppIntent>> apps,
                       Map<String, Entry<HostSpec>> hosts,
                       Map<String, Entry<Liveness>> live,
                       Map<String, Entry<Placement>> placements,
                       Map<String, Map<String, Entry<Assignment>>> assignments,
                       Map<String, Map<String, Map<String, Entry<AgentStatus>>>> statuses) {
}
