package io.intent.iptables;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How the iptables agent is set up: which backend, which chain, where the rules file is, and the command
 * prefix that runs iptables inside a network namespace.
 *
 * @param backend       {@code iptables} (the kernel) or {@code file} (local dev, no root)
 * @param chain         our chain, {@code INTENT-INPUT} by default
 * @param rulesFile     the file backend's file; null means {@code <root>/iptables/rules}
 * @param commandPrefix words before every iptables command, e.g. {@code ip netns exec NS}; empty for none
 * @param iptables      the iptables command family ({@code iptables}, {@code iptables-legacy}, ...)
 * @param debounce      how long changes are gathered into one apply
 * @param ipv6          whether the same chain is also kept in the IPv6 table (ip6tables)
 * @param dockerChain   our chain jumped to from DOCKER-USER, enforcing the sources of docker apps' published
 *                      ports; {@code INTENT-DOCKER} by default
 */
public record IptablesSettings(String backend, String chain, Path rulesFile, List<String> commandPrefix,
                               String iptables, Duration debounce, boolean ipv6,
                               String dockerChain) {
    public static final String KERNEL = "iptables";
    public static final String FILE = "file";

    public IptablesSettings {
        if (!KERNEL.equals(backend) && !FILE.equals(backend)) {
            throw new IllegalArgumentException("backend '" + backend + "' is not one of iptables, file");
        }
        ChainRenderer.requireChain(chain);
        dockerChain = dockerChain == null ? ChainRenderer.DEFAULT_DOCKER_CHAIN : ChainRenderer.requireChain(dockerChain);
        if (dockerChain.equals(chain)) {
            throw new IllegalArgumentException("--docker-chain must differ from --chain (" + chain + ")");
        }
        commandPrefix = commandPrefix == null ? List.of() : List.copyOf(commandPrefix);
        iptables = iptables == null ? "iptables" : iptables;
        debounce = debounce == null ? Duration.ofMillis(100) : debounce;
        if (ipv6 && KERNEL.equals(backend) && !iptables.startsWith("iptables")) {
            throw new IllegalArgumentException("IPv6 needs an iptables command family named iptables..., so that"
                    + " ip6tables... is its IPv6 twin; got '" + iptables + "'");
        }
    }

    /** The kernel backend with the default chain, run through {@code prefix}. */
    public static IptablesSettings kernel(List<String> prefix) {
        return new IptablesSettings(KERNEL, ChainRenderer.DEFAULT_CHAIN, null, prefix, null, null, false, null);
    }

    /** The file backend with the default chain. */
    public static IptablesSettings file(Path rulesFile) {
        return new IptablesSettings(FILE, ChainRenderer.DEFAULT_CHAIN, rulesFile, List.of(), null, null, false, null);
    }

    public IptablesSettings withChain(String newChain) {
        return new IptablesSettings(backend, newChain, rulesFile, commandPrefix, iptables, debounce, ipv6, dockerChain);
    }

    /** The backend these settings name; {@code root} is the agent's sandbox, home of the default rules file. */
    public ChainBackend createBackend(Path root) {
        if (KERNEL.equals(backend)) {
            return new KernelBackend(commandPrefix, iptables);
        }
        return new FileBackend(rulesFile(root));
    }

    /** The IPv6 twin of {@link #createBackend}: ip6tables, or the rules file with {@code .ipv6} appended. */
    public ChainBackend createBackend6(Path root) {
        if (KERNEL.equals(backend)) {
            return new KernelBackend(commandPrefix, "ip6tables" + iptables.substring("iptables".length()));
        }
        Path v4 = rulesFile(root);
        return new FileBackend(v4.resolveSibling(v4.getFileName() + ".ipv6"));
    }

    /** The backend of the docker chain: the same tables, or the rules file with {@code .docker} appended. */
    public ChainBackend createDockerBackend(Path root) {
        if (KERNEL.equals(backend)) {
            return new KernelBackend(commandPrefix, iptables);
        }
        Path v4 = rulesFile(root);
        return new FileBackend(v4.resolveSibling(v4.getFileName() + ".docker"));
    }

    private Path rulesFile(Path root) {
        return rulesFile != null ? rulesFile : root.resolve("iptables").resolve("rules");
    }
}
