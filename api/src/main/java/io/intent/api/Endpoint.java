package io.intent.api;

/** One API operation; runs on a worker thread, so it may call the (blocking) store. */
@FunctionalInterface
interface Endpoint {
    Reply handle(Call call) throws Exception;
}
