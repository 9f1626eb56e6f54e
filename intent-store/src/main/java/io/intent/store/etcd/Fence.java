package io.intent.store.etcd;

/**
 * A fencing token: the leader's election key and that key's create revision. A fenced transaction commits
 * only while this exact key still exists with this create revision, so a paused or partitioned ex-leader can
 * never write, whatever its clock says.
 */
public record Fence(String key, long createRevision) {
}
