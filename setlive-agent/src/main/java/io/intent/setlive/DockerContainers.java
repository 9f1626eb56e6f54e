package io.intent.setlive;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import io.intent.store.codec.Json;
import io.intent.store.codec.Names;
import io.intent.store.model.PortSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's containers in the Docker engine, for {@link DockerRuntime}: the engine connection (opened on first
 * use), listing them by label, and creating the container of a spec (image, labels, env, ports, init, restart
 * policy, log rotation).
 */
final class DockerContainers {
    private static final Logger log = LoggerFactory.getLogger(DockerContainers.class);
    private final String dockerHost;
    private final String host;
    private final String address;
    private final LogLimits logLimits;
    private DockerClient client;

    DockerContainers(String dockerHost, String host, String address, LogLimits logLimits) {
        this.dockerHost = dockerHost;
        this.host = host;
        this.address = address;
        this.logLimits = logLimits;
    }

    /** False when the engine's unix socket does not exist: a host without Docker has no containers. */
    boolean present() {
        return !dockerHost.startsWith("unix://") || Files.exists(Path.of(dockerHost.substring("unix://".length())));
    }

    synchronized DockerClient client() {
        if (client == null) {
            var cfg = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(dockerHost)
                    .withApiVersion("1.41").build();
            var http = new ZerodepDockerHttpClient.Builder().dockerHost(cfg.getDockerHost())
                    .sslConfig(cfg.getSSLConfig()).connectionTimeout(Duration.ofSeconds(5))
                    .responseTimeout(Duration.ofSeconds(120)).build();
            client = DockerClientImpl.getInstance(cfg, http);
        }
        return client;
    }

    /** This host's containers of {@code app} (every app when null), stopped ones included. */
    List<Container> containers(String app) {
        if (!present()) {
            return List.of();
        }
        Map<String, String> labels = app == null ? Map.of(DockerRuntime.LABEL_HOST, host)
                : Map.of(DockerRuntime.LABEL_HOST, host, DockerRuntime.LABEL_APP, Names.require("app", app));
        return client().listContainersCmd().withShowAll(true).withLabelFilter(labels).exec();
    }

    /** A container's name without Docker's leading slash. */
    static String name(Container c) {
        String[] names = c.getNames();
        return names == null || names.length == 0 ? "" : names[0].replaceFirst("^/", "");
    }

    /** Creates the container of {@code spec} named {@code name}, labelled with its fingerprint; returns its id. */
    String create(LaunchSpec spec, String name, String print) {
        List<String> env = new ArrayList<>();
        spec.environment("0.0.0.0").forEach((k, v) -> env.add(k + "=" + v));
        Ports bindings = new Ports();
        List<ExposedPort> exposed = new ArrayList<>();
        for (PortSpec p : spec.ports()) {
            ExposedPort e = "udp".equals(p.protocolOrDefault()) ? ExposedPort.udp(p.port()) : ExposedPort.tcp(p.port());
            exposed.add(e);
            bindings.bind(e, Ports.Binding.bindIpAndPort(address, p.port()));
        }
        HostConfig hc = HostConfig.newHostConfig().withInit(true)
                .withRestartPolicy(RestartPolicy.unlessStoppedRestart()).withPortBindings(bindings)
                // Docker's own driver rotates the output, within the same limits as svlogd for runit apps
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of(
                        "max-size", Long.toString(logLimits.maxBytes()),
                        "max-file", Integer.toString(logLimits.files() + 1))));
        CreateContainerCmd cmd = client().createContainerCmd(spec.imageId()).withName(name)
                .withLabels(Map.of(DockerRuntime.LABEL_HOST, spec.host(), DockerRuntime.LABEL_APP, spec.app(),
                        DockerRuntime.LABEL_VERSION, spec.version(), DockerRuntime.LABEL_HASH, print,
                        DockerRuntime.LABEL_SPEC, new String(Json.write(spec), StandardCharsets.UTF_8)))
                .withEnv(env).withExposedPorts(exposed).withHostConfig(hc);
        if (!spec.command().isEmpty()) {
            cmd.withCmd(spec.command());
        }
        if (spec.workdir() != null && !spec.workdir().isBlank()) {
            cmd.withWorkingDir("/" + spec.workdir());
        }
        return cmd.exec().getId();
    }

    /** Closes the engine connection (opened again on next use). */
    synchronized void close() {
        if (client != null) {
            try {
                client.close();
            } catch (IOException e) {
                log.debug("closing docker client: {}", e.toString());
            }
            client = null;
        }
    }
}
