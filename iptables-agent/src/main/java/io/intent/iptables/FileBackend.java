package io.intent.iptables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local-dev backend: keeps the chain in a file, in {@code iptables-restore} format (so an operator could
 * feed it to {@code iptables-restore --noflush}), replaced atomically (temp file, fsync, rename). Needs no root.
 */
public final class FileBackend implements ChainBackend {
    private final Path file;
    private final AtomicLong writes = new AtomicLong();

    public FileBackend(Path file) {
        this.file = file.toAbsolutePath();
    }

    public Path file() {
        return file;
    }

    @Override
    public ChainState read(String chain, String hook) throws IptablesException {
        try {
            return ChainState.parse(chain, hook, Files.readString(file, StandardCharsets.UTF_8)).withHookExisting();
        } catch (NoSuchFileException e) {
            return ChainState.absent(chain, hook).withHookExisting();
        } catch (IOException e) {
            throw new IptablesException("cannot read rules file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void write(ChainRules desired, ChainState actual) throws IptablesException {
        if (actual.matches(desired)) {
            return;
        }
        writes.incrementAndGet();
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(tmp, RestoreScript.full(desired), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IptablesException("cannot replace " + file + " atomically: " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new IptablesException("cannot write rules file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public long writes() {
        return writes.get();
    }

    @Override
    public String describe() {
        return "rules file " + file;
    }
}
