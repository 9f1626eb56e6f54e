package io.intent.dispatcher;

import io.intent.store.etcd.Fence;

/** A fenced transaction was refused: the writer's election key is gone or was re-created, so it no longer leads. */
public final class FenceLostException extends RuntimeException {
    public FenceLostException(Fence fence) {
        super("fenced write refused: election key " + fence.key() + " with create revision "
                + fence.createRevision() + " no longer exists; leadership is lost");
    }
}
