package io.intent.iptables;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The iptables agent's flags (a picocli mixin), shared by its own main and any launcher that runs it. The
 * fields start at the flags' defaults, so an instance that was never parsed is usable too.
 *
 * <p>The fields look like the other agents' options on purpose: picocli wants one annotated field per flag, and
 * each flag here is the iptables agent's own, declared once; the shared flags come in through {@code AgentOptions}.
 */
public final class IptablesOptions {
    @Option(names = "--backend", paramLabel = "iptables|file", defaultValue = IptablesSettings.FILE,
            description = "iptables: the kernel's tables (needs root); file: a rules file (local dev). "
                    + "Default: ${DEFAULT-VALUE}")
    public String backend = IptablesSettings.FILE;

    @Option(names = "--chain", paramLabel = "NAME", defaultValue = ChainRenderer.DEFAULT_CHAIN,
            description = "intent's own chain, jumped to from INPUT. Default: ${DEFAULT-VALUE}")
    public String chain = ChainRenderer.DEFAULT_CHAIN;

    @Option(names = "--docker-chain", paramLabel = "NAME", defaultValue = ChainRenderer.DEFAULT_DOCKER_CHAIN,
            description = "intent's chain jumped to from DOCKER-USER: the sources of docker apps' published ports."
                    + " Default: ${DEFAULT-VALUE}")
    public String dockerChain = ChainRenderer.DEFAULT_DOCKER_CHAIN;

    @Option(names = "--rules-file", paramLabel = "FILE",
            description = "the file backend's rules file. Default: <root>/iptables/rules")
    public Path rulesFile;

    @Option(names = "--command-prefix", paramLabel = "WORDS",
            description = "words run before every iptables command, e.g. 'ip netns exec NS'")
    public String commandPrefix;

    @Option(names = "--iptables", paramLabel = "COMMAND", defaultValue = "iptables",
            description = "iptables command family (iptables, iptables-legacy, iptables-nft); -save and -restore"
                    + " are appended. Default: ${DEFAULT-VALUE}")
    public String iptables = "iptables";

    @Option(names = "--debounce", paramLabel = "MS", defaultValue = "100",
            description = "changes within this many milliseconds of the first make one apply. Default: ${DEFAULT-VALUE}")
    public int debounceMs = 100;

    @Option(names = "--ipv6", negatable = true, defaultValue = "false",
            description = "also keep the chain in the IPv6 table (ip6tables; ports limited to IPv4 sources stay"
                    + " closed there). Default: ${DEFAULT-VALUE}")
    public boolean ipv6;

    /** The settings these flags describe; throws IllegalArgumentException naming a bad backend or chain. */
    public IptablesSettings settings() {
        List<String> prefix = commandPrefix == null || commandPrefix.isBlank() ? List.of()
                : Arrays.asList(commandPrefix.strip().split("\\s+"));
        if (debounceMs < 0 || debounceMs > 60_000) {
            throw new IllegalArgumentException("--debounce " + debounceMs + " is out of range 0-60000 ms");
        }
        return new IptablesSettings(backend, chain, rulesFile, prefix, iptables, Duration.ofMillis(debounceMs),
                ipv6, dockerChain);
    }
}
