package io.intent.testkit;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;

/**
 * One machine of a {@link ContainerHosts} network: a container with its own network stack, file system and
 * processes, at a fixed address. Its faults are Docker's: cut it off the network, freeze it, crash it, start it
 * again. A host runs {@code intent-node} under runit; an etcd member runs etcd.
 */
public final class ContainerHost {
    private final String name;
    private final String address;
    private final GenericContainer<?> container;
    private final ContainerHosts network;

    ContainerHost(String name, String address, GenericContainer<?> container, ContainerHosts network) {
        this.name = name;
        this.address = address;
        this.container = container;
        this.network = network;
    }

    /** Its hostname, which is also its intent host name. */
    public String name() {
        return name;
    }

    /** Its address on the Docker network, reachable from this machine and from every other container. */
    public String address() {
        return address;
    }

    public String containerId() {
        return container.getContainerId();
    }

    /** Its container's name, for the docker CLI. */
    public String containerName() {
        return container.getContainerName().replaceFirst("^/", "");
    }

    GenericContainer<?> container() {
        return container;
    }

    private DockerClient docker() {
        return container.getDockerClient();
    }

    /** Cuts it off the network ({@code docker network disconnect}): it runs on, alone. */
    public void disconnect() {
        docker().disconnectFromNetworkCmd().withNetworkId(network.networkId()).withContainerId(containerId())
                .withForce(true).exec();
    }

    /** Connects it to the network again, at its old address. */
    public void reconnect() {
        docker().connectToNetworkCmd().withNetworkId(network.networkId()).withContainerId(containerId())
                .withContainerNetwork(new ContainerNetwork().withIpamConfig(new ContainerNetwork.Ipam()
                        .withIpv4Address(address)).withAliases(name)).exec();
    }

    /** Freezes every process in it ({@code docker pause}): a hung machine, not a dead one. */
    public void pause() {
        docker().pauseContainerCmd(containerId()).exec();
    }

    public void unpause() {
        docker().unpauseContainerCmd(containerId()).exec();
    }

    /** Crashes it: SIGKILL to its init, so every process in it dies at once; its file system stays. */
    public void crash() {
        docker().killContainerCmd(containerId()).withSignal("KILL").exec();
    }

    /** Starts it again after {@link #crash()}, with its file system and address: a machine that reboots. */
    public void restart() {
        docker().startContainerCmd(containerId()).exec();
    }

    public boolean running() {
        Boolean r = docker().inspectContainerCmd(containerId()).exec().getState().getRunning();
        return Boolean.TRUE.equals(r);
    }

    /** Runs a command inside it and returns what it did. */
    public ExecResult exec(String... command) {
        try {
            return container.execInContainer(command);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Runs a command inside it; returns its stdout, or fails with its output. */
    public String execOk(String... command) {
        ExecResult r = exec(command);
        if (r.getExitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " in " + name + " exited " + r.getExitCode()
                    + ": " + r.getStdout() + r.getStderr());
        }
        return r.getStdout();
    }

    /**
     * What {@code http://ADDRESS:PORT/} answers when asked from inside this container (busybox wget, given up
     * after 3 s): the body, or empty when nothing answers.
     */
    public Optional<String> fetch(String address, int port) {
        // coreutils timeout, not wget -T: Debian's busybox 1.35 wget segfaults on -T
        ExecResult r = exec("timeout", "3", "busybox", "wget", "-q", "-O", "-", "http://" + address + ":" + port
                + "/");
        return r.getExitCode() == 0 ? Optional.of(r.getStdout().strip()) : Optional.empty();
    }

    /** The pid runit reports for {@code app}'s process in this host, if it runs. */
    public Optional<Long> appPid(String app) {
        ExecResult r = exec("cat", "/var/lib/intent/services/" + app + "/supervise/pid");
        String s = r.getStdout().strip();
        if (r.getExitCode() != 0 || s.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(s));
    }

    /** The INPUT chain and intent's chain of this host's kernel, as {@code iptables -S} prints them. */
    public String firewall() {
        return execOk("iptables", "-S");
    }

    @Override
    public String toString() {
        return name + "@" + address;
    }
}
