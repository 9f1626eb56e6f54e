package io.intent.iptables;

/**
 * Where intent's chain lives: the kernel's tables ({@link KernelBackend}) or, for local development without
 * root, a rules file ({@link FileBackend}). Two real backends, hence the interface.
 */
public interface ChainBackend {
    /** What the backend holds of {@code chain}, jumped to from INPUT, now. */
    default ChainState read(String chain) throws IptablesException {
        return read(chain, ChainRenderer.HOOK);
    }

    /** What the backend holds of {@code chain}, jumped to from {@code hook}, now. */
    ChainState read(String chain, String hook) throws IptablesException;

    /** Makes the backend hold exactly {@code desired}, given that it held {@code actual}, in one atomic step. */
    void write(ChainRules desired, ChainState actual) throws IptablesException;

    /** How many writes (restore calls, file replacements) this backend has made: no-op resyncs make none. */
    long writes();

    /** One line for logs: which backend, where. */
    String describe();
}
