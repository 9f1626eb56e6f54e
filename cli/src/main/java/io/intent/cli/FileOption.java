package io.intent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code -f FILE} of apply and plan, and reading the manifest it names. */
final class FileOption {
    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "YAML or JSON file; - = stdin")
    String file;

    Manifest read() {
        try {
            String text = file.equals("-") ? new String(System.in.readAllBytes()) : Files.readString(Path.of(file));
            return Manifest.parse(text);
        } catch (IOException e) {
            throw new CtlException(1, "cannot read " + file + ": " + e.getMessage());
        }
    }
}
