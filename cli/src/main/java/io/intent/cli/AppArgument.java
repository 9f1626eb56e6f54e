package io.intent.cli;

import picocli.CommandLine.Parameters;

/** The {@code app NAME} arguments of a command that acts on apps only (describe, rollback). */
final class AppArgument {
    @Parameters(index = "0", paramLabel = "KIND", description = "app")
    String kind;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    /** The app's name; a kind other than {@code app} is bad usage of {@code command}. */
    String app(String command) {
        if (!kind.equals("app")) {
            throw new CtlException(2, command + " supports: app");
        }
        return name;
    }
}
