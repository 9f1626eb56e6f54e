package io.intent.setlive;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads a Docker app's output the way {@code docker logs [--tail N] [-f]} does, from the engine (its json-file
 * driver keeps and rotates it). Following ends when the container stops or is removed (the instance left).
 */
public final class DockerLogReader implements AutoCloseable {
    private final DockerClient client;

    public DockerLogReader(String dockerHost) {
        var cfg = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(dockerHost)
                .withApiVersion("1.41").build();
        // a followed container may be quiet for long: no response timeout short of a day
        var http = new ZerodepDockerHttpClient.Builder().dockerHost(cfg.getDockerHost())
                .sslConfig(cfg.getSSLConfig()).connectionTimeout(Duration.ofSeconds(5))
                .responseTimeout(Duration.ofHours(24)).build();
        this.client = DockerClientImpl.getInstance(cfg, http);
    }

    /** Streams container {@code id}'s stdout and stderr, timestamped, to {@code sink}. */
    public void stream(String id, int tail, boolean follow, LogSink sink) throws IOException, InterruptedException {
        AtomicBoolean gone = new AtomicBoolean();
        var cb = new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame f) {
                byte[] b = f.getPayload();
                try {
                    if (b != null && !gone.get() && !sink.write(b, b.length)) {
                        gone.set(true);
                        close();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    gone.set(true);
                } catch (IOException e) {
                    gone.set(true);
                }
            }
        };
        client.logContainerCmd(id).withStdOut(true).withStdErr(true).withTimestamps(true).withTail(tail)
                .withFollowStream(follow).exec(cb);
        try {
            cb.awaitCompletion();
        } finally {
            cb.close();
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
